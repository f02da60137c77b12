"""http_file transforms: CSV and Parquet -> deterministic typed Parquet; GeoJSON/GeoPackage/GeoParquet -> GeoParquet."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Polygon, box

from dfc_assets.transform.result import TransformError
from dfc_assets.transform.tabular_file import csv_file_to_parquet, is_geoparquet, parquet_file_to_parquet
from dfc_assets.transform.vector_file import vector_file_to_geoparquet

CSV = (
    "\ufeffid,code,amount,ratio,name,empty,Name\n"
    "1,007,10,1.5,Alpha,,a\n"
    "2,010,-20,2e3,\"Beta, quoted\",,b\n"
    "3,011,,0.25,,,c\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_types_from_every_row_codes_stay_text_and_bytes_are_deterministic(tmp_path):
    source = write(tmp_path / "places.csv", CSV)
    first = csv_file_to_parquet(source, tmp_path / "a.parquet")
    second = csv_file_to_parquet(source, tmp_path / "b.parquet")
    assert first.sha256 == second.sha256 and (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert dict(first.columns) == {
        "id": "int64", "code": "string", "amount": "int64", "ratio": "double", "name": "string", "empty": "string", "Name.1": "string",
    }
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.column("code").to_pylist() == ["007", "010", "011"]
    assert table.column("amount").to_pylist() == [10, -20, None]
    assert table.column("ratio").to_pylist() == [1.5, 2000.0, 0.25]
    assert table.column("name").to_pylist() == ["Alpha", "Beta, quoted", ""]
    assert first.rows == 3


def test_a_late_text_value_makes_the_column_text(tmp_path):
    rows = "".join(f"{i},{i}\n" for i in range(200_000)) + "200000,n/a\n"
    result = csv_file_to_parquet(write(tmp_path / "late.csv", "id,value\n" + rows), tmp_path / "out.parquet")
    assert dict(result.columns) == {"id": "int64", "value": "string"} and result.rows == 200_001


def test_latin1_csv(tmp_path):
    result = csv_file_to_parquet(write(tmp_path / "l.csv", "nom,n\nQuébec,1\n", "latin-1"), tmp_path / "o.parquet", encoding="latin-1")
    assert pq.read_table(tmp_path / "o.parquet").column("nom").to_pylist() == ["Québec"] and result.rows == 1
    with pytest.raises(TransformError, match="not valid utf-8"):
        csv_file_to_parquet(write(tmp_path / "h.csv", "Québec,n\n1,1\n", "latin-1"), tmp_path / "o2.parquet")


def test_ragged_rows_fail_naming_the_line_or_are_skipped(tmp_path):
    source = write(tmp_path / "r.csv", "a,b\n1,2\n3\n4,5\n")
    with pytest.raises(TransformError, match=r"r.csv: line 3 has 1 fields, the header 2 .*ragged_rows: skip"):
        csv_file_to_parquet(source, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()
    logs: list[str] = []
    result = csv_file_to_parquet(source, tmp_path / "o.parquet", ragged_rows="skip", log=logs.append)
    assert result.rows == 2 and dict(result.counts)["ragged_rows_skipped"] == 1
    assert any("skipped 1 ragged row(s) at line(s) 3" in line for line in logs)


@pytest.mark.parametrize(("text", "words"), [("", "empty"), ("a,b\n", "header but no data rows")])
def test_empty_and_header_only_csv_are_refused(tmp_path, text, words):
    with pytest.raises(TransformError, match=words):
        csv_file_to_parquet(write(tmp_path / "e.csv", text), tmp_path / "o.parquet")


def test_parquet_is_rewritten_with_fixed_settings_and_no_upstream_metadata(tmp_path):
    table = pa.table({"id": [3, 1, 2], "name": ["c", "a", "b"]}).replace_schema_metadata({b"pandas": b"{}", b"upstream": b"x"})
    pq.write_table(table, tmp_path / "in.parquet", compression="snappy")
    result = parquet_file_to_parquet(tmp_path / "in.parquet", tmp_path / "out.parquet")
    again = parquet_file_to_parquet(tmp_path / "in.parquet", tmp_path / "out2.parquet")
    assert result.sha256 == again.sha256 and result.rows == 3
    written = pq.read_table(tmp_path / "out.parquet")
    assert written.to_pydict() == {"id": [3, 1, 2], "name": ["c", "a", "b"]} and not written.schema.metadata
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.row_group(0).column(0).compression == "ZSTD"
    assert not is_geoparquet(tmp_path / "in.parquet")


def frame() -> gpd.GeoDataFrame:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    return gpd.GeoDataFrame({"PRUID": ["10", "11"], "Nom Français": ["Île", "Terre"]}, geometry=[box(0, 0, 1, 1), bowtie], crs="EPSG:4326")


@pytest.mark.parametrize("file_format", ["geojson", "gpkg", "geoparquet"])
def test_vector_files_go_through_the_vector_transform(tmp_path, file_format):
    source = tmp_path / f"places.{ {'geojson': 'geojson', 'gpkg': 'gpkg', 'geoparquet': 'parquet'}[file_format] }"
    if file_format == "geoparquet":
        frame().to_parquet(source)
        assert is_geoparquet(source)
    else:
        frame().to_file(source, driver={"geojson": "GeoJSON", "gpkg": "GPKG"}[file_format])
    result = vector_file_to_geoparquet(source, tmp_path / "out.parquet", file_format=file_format, promote_to_multi=True)
    again = vector_file_to_geoparquet(source, tmp_path / "out2.parquet", file_format=file_format, promote_to_multi=True)
    assert result.sha256 == again.sha256
    assert result.rows == 2 and result.geometry_types == ("MultiPolygon",)
    assert dict(result.counts)["invalid_geometries_repaired"] == 1
    names = [name for name, _ in result.columns]
    assert "pruid" in names and "nom_francais" in names
    assert json.loads(pq.read_schema(tmp_path / "out.parquet").metadata[b"geo"])["version"] == "1.1.0"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "the wrapper zip is removed"


def test_vector_file_errors_name_the_file_not_the_wrapper(tmp_path):
    source = tmp_path / "places.geojson"
    frame().to_file(source, driver="GeoJSON")
    with pytest.raises(TransformError) as error:
        vector_file_to_geoparquet(source, tmp_path / "out.parquet", file_format="geojson", invalid_geometries="reject")
    assert "places.geojson" in str(error.value) and ".zip" not in str(error.value) and "rejected" in str(error.value)
    kept = vector_file_to_geoparquet(source, tmp_path / "o.parquet", file_format="geojson", normalise_names=False, invalid_geometries="keep")
    assert "Nom Français" in [name for name, _ in kept.columns]
