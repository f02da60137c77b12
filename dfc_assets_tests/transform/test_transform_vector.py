from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pytest
import shapely

from dfc_assets.fixtures.boundaries import write_synthetic_boundary_zip
from dfc_assets.transform.result import TransformError
from dfc_assets.transform.vector import vector_zip_to_geoparquet


@pytest.fixture(scope="module")
def boundary_zip(tmp_path_factory):
    return write_synthetic_boundary_zip(tmp_path_factory.mktemp("b") / "lpr_000b21a_e.zip")


def test_boundary_to_geoparquet(boundary_zip, tmp_path):
    result = vector_zip_to_geoparquet(boundary_zip, tmp_path / "pr.parquet")
    frame = gpd.read_parquet(result.path)
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == result.rows == 13
    geo = json.loads(pq.read_metadata(result.path).metadata[b"geo"])
    assert geo["version"] == "1.1.0"
    assert geo["columns"]["geometry"]["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    assert geo["columns"]["geometry"]["geometry_types"] == ["Polygon"]
    assert result.geometry_types == ("Polygon",)
    assert "bbox" in pq.read_schema(result.path).names
    assert list(frame.columns[:2]) == ["pruid", "dguid"]
    assert frame.loc[frame.pruid == "35", "dguid"].item() == "2021A000235"
    west, south, east, north = result.bbox
    assert -142 < west < -140 and 41 < south < 43 and -53 < east < -52 and 82 < north < 83
    footprint = shapely.geometry.shape(result.footprint)
    assert footprint.contains(frame.geometry.union_all().representative_point())
    assert json.dumps(result.footprint)


def test_lonlat_axis_order(boundary_zip, tmp_path):
    frame = gpd.read_parquet(vector_zip_to_geoparquet(boundary_zip, tmp_path / "pr.parquet").path)
    ontario = frame.loc[frame.pruid == "35"].geometry.item()
    assert -96 < ontario.centroid.x < -74 and 41 < ontario.centroid.y < 57


def test_deterministic(boundary_zip, tmp_path):
    first = vector_zip_to_geoparquet(boundary_zip, tmp_path / "a.parquet")
    second = vector_zip_to_geoparquet(boundary_zip, tmp_path / "b.parquet")
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()


def test_names_kept_when_asked(boundary_zip, tmp_path):
    result = vector_zip_to_geoparquet(boundary_zip, tmp_path / "a.parquet", normalise_names=False)
    assert [name for name, _ in result.columns][:2] == ["PRUID", "DGUID"]


def _zip_frame(frame: gpd.GeoDataFrame, tmp_path, name: str = "layer", drop: tuple[str, ...] = ()) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    frame.to_file(folder / f"{name}.shp", engine="pyogrio")
    out = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for member in sorted(folder.iterdir()):
            if member.suffix not in drop:
                archive.write(member, member.name)
    return out


def _bowtie_frame() -> gpd.GeoDataFrame:
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    square = shapely.box(2, 2, 3, 3)
    return gpd.GeoDataFrame({"NAME": ["bowtie", "square"]}, geometry=[bowtie, square], crs="EPSG:4326")


def test_invalid_geometry_repaired_by_default(tmp_path):
    messages: list[str] = []
    result = vector_zip_to_geoparquet(_zip_frame(_bowtie_frame(), tmp_path), tmp_path / "o.parquet", log=messages.append)
    counts = dict(result.counts)
    assert counts["invalid_geometries"] == 1 and counts["invalid_geometries_repaired"] == 1
    assert gpd.read_parquet(result.path).is_valid.all()
    assert any("1 invalid geometry" in message for message in messages)


def test_invalid_geometry_rejected_when_configured(tmp_path):
    out = tmp_path / "o.parquet"
    with pytest.raises(TransformError, match=r"layer\.zip!layer\.shp.*1 invalid geometry.*Self-intersection.*reject"):
        vector_zip_to_geoparquet(_zip_frame(_bowtie_frame(), tmp_path), out, invalid_geometries="reject")
    assert not out.exists()


def test_shapefile_without_prj_is_refused(tmp_path):
    frame = gpd.GeoDataFrame({"A": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:3347")
    with pytest.raises(TransformError, match="no coordinate reference system"):
        vector_zip_to_geoparquet(_zip_frame(frame, tmp_path, drop=(".prj",)), tmp_path / "o.parquet")


def test_latin1_attributes_with_encoding(tmp_path):
    frame = gpd.GeoDataFrame({"NOM": ["Québec"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "l.shp", engine="pyogrio", encoding="ISO-8859-1")
    (folder / "l.cpg").unlink(missing_ok=True)
    zip_path = tmp_path / "l.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for member in sorted(folder.iterdir()):
            archive.write(member, member.name)
    result = vector_zip_to_geoparquet(zip_path, tmp_path / "o.parquet", encoding="latin-1")
    assert gpd.read_parquet(result.path)["nom"].tolist() == ["Québec"]


def test_geopackage_with_layer(tmp_path):
    gpkg = tmp_path / "data.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(-75, 45)], crs="EPSG:4326").to_file(gpkg, layer="points", engine="pyogrio")
    gpd.GeoDataFrame({"b": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs="EPSG:3347").to_file(gpkg, layer="areas", engine="pyogrio")
    zip_path = tmp_path / "data.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(gpkg, "data.gpkg")
    with pytest.raises(TransformError, match="layers"):
        vector_zip_to_geoparquet(zip_path, tmp_path / "o.parquet")
    result = vector_zip_to_geoparquet(zip_path, tmp_path / "o.parquet", layer="areas")
    assert result.rows == 2 and gpd.read_parquet(result.path).crs.to_epsg() == 4326


def test_not_a_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"<html>404</html>")
    with pytest.raises(TransformError, match="bad.zip: it is an HTML"):
        vector_zip_to_geoparquet(bad, tmp_path / "o.parquet")


def _zip_folder(folder, zip_path):
    with zipfile.ZipFile(zip_path, "w") as archive:
        for member in sorted(folder.rglob("*")):
            if member.is_file():
                archive.write(member, member.relative_to(folder).as_posix())
    return zip_path


@pytest.mark.parametrize("driver, name", [("GML", "pr.gml"), ("OpenFileGDB", "pr.gdb"), ("GPKG", "pr.gpkg")])
def test_other_formats_from_the_boundary_fixture(boundary_zip, tmp_path, driver, name):
    frame = gpd.read_file(boundary_zip)
    folder = tmp_path / "src"
    folder.mkdir()
    frame.to_file(folder / name, driver=driver, engine="pyogrio", layer="pr")
    result = vector_zip_to_geoparquet(_zip_folder(folder, tmp_path / "src.zip"), tmp_path / "o.parquet", layer="pr")
    back = gpd.read_parquet(result.path)
    assert len(back) == 13 and back.crs.to_epsg() == 4326
    assert sorted(back["pruid"]) == sorted(frame["PRUID"])


@pytest.mark.parametrize("normalise", [True, False])
def test_attribute_named_bbox_does_not_clash_with_the_covering(tmp_path, normalise):
    frame = gpd.GeoDataFrame({"BBOX": ["x"], "Nom (fr)": ["é"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    result = vector_zip_to_geoparquet(_zip_frame(frame, tmp_path), tmp_path / "o.parquet", normalise_names=normalise)
    names = [name for name, _ in result.columns]
    assert names.count("bbox") == 1 and names[-1] == "bbox"
    expected = ["bbox_attribute", "nom_fr"] if normalise else ["BBOX_attribute", "Nom (fr)"]
    assert names[:2] == expected


def test_promote_to_multi(tmp_path):
    frame = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)])], crs="EPSG:4326")
    zip_path = _zip_frame(frame, tmp_path)
    result = vector_zip_to_geoparquet(zip_path, tmp_path / "b.parquet", promote_to_multi=True)
    assert result.geometry_types == ("MultiPolygon",)
    assert gpd.read_parquet(result.path).geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
