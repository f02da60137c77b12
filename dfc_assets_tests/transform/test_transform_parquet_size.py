"""Table Parquet no larger than DuckDB's own zstd Parquet of the same table, read back identically, same bytes every time."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dfc_assets.transform.csv_stream import PARQUET_WRITER_OPTIONS, ROW_GROUP_ROWS
from dfc_assets.transform.statcan_table import statcan_table_to_parquet

from .conftest import REAL_TABLE_ZIP, WDS_HEADER, csv_text, write_zip


def synthetic_table_zip(path: Path, rows: int, *, daily: bool) -> Path:
    """A WDS-shaped table: 40 series, random measures with StatCan's decimals, ~12 % missing; daily: every row the
    next day (the case where a dictionary of REF_DATE loses to DuckDB), else 40 series per month."""
    rng = random.Random(14)
    lines = [WDS_HEADER]
    for row in range(rows):
        series, step = row % 40, row // 40
        if daily:
            ref_date = f"{1200 + row // 336}-{row // 28 % 12 + 1:02d}-{row % 28 + 1:02d}"
        else:
            ref_date = f"{1900 + step // 12}-{step % 12 + 1:02d}"
        missing = rng.random() < 0.12
        decimals = rng.choice((1, 2, 4))
        value = "" if missing else f"{rng.uniform(0, 5000):.{decimals}f}"
        lines.append([ref_date, "Canada", "2016A000011124", f"Series {series}", "Dollars", "81", "units", "0",
                      f"v{41690000 + series}", f"1.{series + 1}", value, ".." if missing else "", "", "", str(decimals)])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("12345678.csv", csv_text(lines).encode())
    return path


def duckdb_zstd_copy(source: Path, out: Path) -> Path:
    duckdb.connect().execute(f"COPY (FROM read_parquet('{source}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
    return out


DUCKDB_TYPES = "{'UOM_ID': 'SMALLINT', 'SCALAR_ID': 'TINYINT', 'VALUE': 'DOUBLE', 'DECIMALS': 'TINYINT'}"


def duckdb_zstd_from_csv(zip_path: Path, member: str, tmp_path: Path) -> Path:
    """DuckDB's own reading of the CSV (its type detection, our types for the typed WDS columns) written as zstd Parquet."""
    csv_path = Path(zipfile.ZipFile(zip_path).extract(member, tmp_path / "extracted"))
    out = tmp_path / "duckdb-from-csv.parquet"
    duckdb.connect().execute(
        f"COPY (FROM read_csv('{csv_path}', header=true, types={DUCKDB_TYPES})) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
    )
    return out


def assert_no_larger_and_same_rows(ours: Path, source_zip: Path, member: str, tmp_path: Path, *, against_csv_reading: bool = True) -> None:
    theirs = duckdb_zstd_copy(ours, tmp_path / "duckdb.parquet")
    size = ours.stat().st_size
    assert size <= theirs.stat().st_size, (size, theirs.stat().st_size)
    if against_csv_reading:
        from_csv = duckdb_zstd_from_csv(source_zip, member, tmp_path)
        assert size <= from_csv.stat().st_size, (size, from_csv.stat().st_size)
    by_pyarrow = pq.read_table(ours)
    assert by_pyarrow.equals(pq.read_table(theirs).cast(by_pyarrow.schema))
    by_duckdb = duckdb.connect().sql(f"FROM read_parquet('{ours}')").fetch_arrow_table()
    assert by_duckdb.cast(by_pyarrow.schema).equals(by_pyarrow)


def test_real_table_no_larger_than_duckdb_and_same_rows(tmp_path):
    result = statcan_table_to_parquet(REAL_TABLE_ZIP, tmp_path / "33100036.parquet", product_id="33100036")
    assert_no_larger_and_same_rows(result.path, REAL_TABLE_ZIP, "33100036.csv", tmp_path)


def test_real_table_repeated_no_larger_than_duckdb_and_same_rows(tmp_path):
    """The issue's measure (33100036 with its rows repeated): pyarrow's 20,000-row pages made ours 18 % larger."""
    header, rows = zipfile.ZipFile(REAL_TABLE_ZIP).read("33100036.csv").split(b"\n", 1)
    repeated = write_zip(tmp_path / "repeated.zip", {"33100036.csv": header + b"\n" + rows * 3})
    result = statcan_table_to_parquet(repeated, tmp_path / "33100036.parquet", product_id="33100036")
    assert_no_larger_and_same_rows(result.path, repeated, "33100036.csv", tmp_path)


@pytest.mark.parametrize("daily", [True, False], ids=["daily", "monthly"])
def test_synthetic_table_no_larger_than_duckdb_and_same_rows(tmp_path, daily):
    source = synthetic_table_zip(tmp_path / "table.zip", ROW_GROUP_ROWS + 40_000, daily=daily)
    first = statcan_table_to_parquet(source, tmp_path / "first.parquet", product_id="12345678")
    assert pq.ParquetFile(first.path).metadata.num_row_groups == 2
    # DuckDB's own reading of a monthly CSV lacks our REF_START_DATE/REF_END_DATE and ends 0.7 % smaller: only
    # DuckDB's Parquet of the same columns is the bound there.
    assert_no_larger_and_same_rows(first.path, source, "12345678.csv", tmp_path, against_csv_reading=daily)
    again = statcan_table_to_parquet(source, tmp_path / "again.parquet", product_id="12345678")
    assert again.sha256 == first.sha256


def test_layout_is_recorded_and_is_what_the_file_has(tmp_path):
    result = statcan_table_to_parquet(REAL_TABLE_ZIP, tmp_path / "33100036.parquet", product_id="33100036")
    layout = result.layout
    assert layout["compression"] == "zstd" and layout["compression_level"] == PARQUET_WRITER_OPTIONS["compression_level"]
    assert layout["row_group_rows"] == ROW_GROUP_ROWS and layout["row_order"] == "source"
    assert set(layout["encodings"]) == set(pq.read_schema(result.path).names)
    metadata = pq.ParquetFile(result.path).metadata
    columns = {metadata.row_group(0).column(i).path_in_schema: metadata.row_group(0).column(i) for i in range(metadata.num_columns)}
    for name, encoding in layout["encodings"].items():
        assert encoding in columns[name].encodings, (name, encoding, columns[name].encodings)
    assert all(column.compression == "ZSTD" for column in columns.values())


def test_manifest_records_the_layout_and_the_lock(tmp_path):
    from dfc_assets.dependency_lock import lock_facts
    from dfc_assets.transform.manifest import build_manifest

    result = statcan_table_to_parquet(REAL_TABLE_ZIP, tmp_path / "33100036.parquet", product_id="33100036")
    manifest = build_manifest(dataset_id="d", version="v", sources=[], result=result, code_version="c", configuration={}).to_dict()
    assert manifest["output"]["parquet_layout"] == result.layout
    assert manifest["lock"] == lock_facts() and len(manifest["lock"]["sha256"]) == 64


# The bytes of 33100036 per TRANSFORM_CODE_VERSION, with the libraries of requirements.lock. A lock upgrade or
# a code change that fails this changes published bytes: bump TRANSFORM_CODE_VERSION and record the new digest.
REAL_TABLE_SHA256 = {"2": "7562dd54608f5897a0249e47023471d020f39d3d0a923252284c841c17ea9808"}


def test_real_table_bytes_belong_to_this_transform_code_version(tmp_path):
    from dfc_assets.code_version import TRANSFORM_CODE_VERSION

    result = statcan_table_to_parquet(REAL_TABLE_ZIP, tmp_path / "33100036.parquet", product_id="33100036")
    assert result.sha256 == REAL_TABLE_SHA256.get(TRANSFORM_CODE_VERSION), (
        f"33100036's Parquet bytes changed (sha256 {result.sha256}) under TRANSFORM_CODE_VERSION {TRANSFORM_CODE_VERSION}: "
        "bump it in dfc_assets/code_version.py and record the digest here"
    )
