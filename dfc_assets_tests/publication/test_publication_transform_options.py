"""publication.artifact.transform: each source kind reaches its transform with the registry's options, recorded in the manifest."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dfc_assets.sources.kinds import source_config as _source_config, transform
from dfc_assets.registry import CensusProfileSource, HttpFileSource, VectorOptions, load_registry
from dfc_assets.services.sample_sources import sample_table_dir
from dfc_assets.transform.result import TransformError

SPECS = {spec.key: spec for spec in load_registry()}
TABLE, BOUNDARY = SPECS["statcan_table_33100036"], SPECS["fixture_provinces_territories"]
CENSUS_HEADER = "CENSUS_YEAR,DGUID,GEO_NAME,CHARACTERISTIC_ID,CHARACTERISTIC_NAME,C1_COUNT_TOTAL,SYMBOL,C2_COUNT_MEN+,SYMBOL\n"


def census_zip(path: Path, *, ragged: bool) -> Path:
    rows = '2021,"2021A000011124","Canada",1,"Population",36991981,"",,""\n' + ('2021,"2021A000224","Québec",1\n' if ragged else "")
    rows += '2021,"2021A000235","Ontario",1,"Population",14223942,"",,""\n'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("98-401-X2021006_English_CSV_data_Canada.csv", (CENSUS_HEADER + rows).encode("latin-1"))
    return path


def test_census_profile_kind_with_ragged_rows_option(tmp_path):
    spec = replace(BOUNDARY, key="census", source=CensusProfileSource(url="https://x.test/98-401.zip"))
    source = census_zip(tmp_path / "98-401.zip", ragged=True)
    with pytest.raises(TransformError, match="line 3"):
        transform(spec, "2021", [source], tmp_path / "a.parquet", print)
    skipping = replace(spec, source=replace(spec.source, ragged_rows="skip"))
    result = transform(skipping, "2021", [source], tmp_path / "b.parquet", print)
    assert pq.read_table(result.path).column("GEO_NAME").to_pylist() == ["Canada", "Ontario"]
    assert _source_config(skipping, "2021") == {
        "kind": "census_profile", "url": "https://x.test/98-401.zip", "layer": None, "encoding": "latin-1", "members": [], "ragged_rows": "skip",
    }


def test_table_options_reach_the_table_transform(tmp_path):
    zip_path = sample_table_dir() / "33100036-eng.zip"
    metadata = sample_table_dir() / "33100036.json"
    april = replace(TABLE, source=replace(TABLE.source, fiscal_year_start_month=4))
    result = transform(april, "2025-06-11", [zip_path, _metadata_copy(metadata, tmp_path)], tmp_path / "t.parquet", print)
    assert result.rows > 0
    assert _source_config(april, "2025-06-11")["fiscal_year_start_month"] == 4
    assert _source_config(TABLE, "2025-06-11") == {
        "kind": "statcan_table", "product_id": "33100036", "languages": ["en"], "fiscal_year_start_month": 7, "ragged_rows": "error",
    }


def _metadata_copy(metadata: Path, tmp_path: Path) -> Path:
    target = tmp_path / "33100036.cube-metadata.json"
    target.write_bytes(metadata.read_bytes())
    return target


def test_vector_options_are_recorded_for_boundaries_and_vector_files():
    rejecting = replace(BOUNDARY, source=replace(BOUNDARY.source, vector=VectorOptions("reject", False, True)))
    config = _source_config(rejecting, "2022-02-09")
    assert (config["invalid_geometries"], config["normalise_names"], config["promote_to_multi"]) == ("reject", False, True)
    gpkg = replace(BOUNDARY, source=HttpFileSource(url="https://x.test/a.gpkg", format="gpkg", layer="a"))
    assert _source_config(gpkg, "1") == {
        "kind": "http_file", "format": "gpkg", "url": "https://x.test/a.gpkg", "layer": "a", "encoding": None,
        "invalid_geometries": "repair", "normalise_names": True, "promote_to_multi": False,
    }


def test_boundary_reject_option_reaches_the_vector_transform(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Polygon

    bowtie = gpd.GeoDataFrame({"PRUID": ["10"]}, geometry=[Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])], crs="EPSG:4326")
    gpkg = tmp_path / "b.gpkg"
    bowtie.to_file(gpkg, driver="GPKG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(gpkg, "b.gpkg")
    (tmp_path / "b.zip").write_bytes(buffer.getvalue())
    rejecting = replace(BOUNDARY, source=replace(BOUNDARY.source, vector=VectorOptions(invalid_geometries="reject")))
    with pytest.raises(TransformError, match="rejected by configuration"):
        transform(rejecting, "2022-02-09", [tmp_path / "b.zip"], tmp_path / "o.parquet", print)
    assert transform(BOUNDARY, "2022-02-09", [tmp_path / "b.zip"], tmp_path / "o.parquet", print).rows == 1
