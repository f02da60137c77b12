from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dfc_assets.transform.result import TransformError
from dfc_assets.transform.statcan_table import statcan_table_to_parquet

from .conftest import REAL_TABLE_METADATA, REAL_TABLE_ZIP, WDS_HEADER, wds_row, write_zip

PID = "12345678"


@pytest.fixture(scope="module")
def real_table(tmp_path_factory) -> tuple:
    out = tmp_path_factory.mktemp("real") / "33100036.parquet"
    metadata = json.loads(REAL_TABLE_METADATA.read_text())
    result = statcan_table_to_parquet(REAL_TABLE_ZIP, out, product_id="33100036", cube_metadata=metadata)
    return result, pq.read_table(out)


@pytest.fixture(scope="module")
def real_rows() -> list[dict[str, str]]:
    with zipfile.ZipFile(REAL_TABLE_ZIP) as archive:
        text = archive.read("33100036.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_real_table_rows_and_types(real_table):
    result, table = real_table
    assert result.rows == table.num_rows == 90_086
    types = dict(result.columns)
    for name in ("COORDINATE", "DGUID", "VECTOR", "STATUS", "SYMBOL", "TERMINATED", "REF_DATE", "SCALAR_FACTOR", "UOM", "GEO"):
        assert types[name] == "string", name
    assert types["VALUE"] == "double"
    assert types["DECIMALS"] == "int8"
    assert types["REF_START_DATE"] == types["REF_END_DATE"] == "date32[day]"
    names = [name for name, _ in result.columns]
    assert names[:3] == ["REF_DATE", "REF_START_DATE", "REF_END_DATE"]
    assert table.schema == pq.read_schema(result.path)
    assert result.bbox is None and result.footprint is None
    assert pq.ParquetFile(result.path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_real_table_strings_kept_exactly(real_table, real_rows):
    _, table = real_table
    for name in ("COORDINATE", "VECTOR", "DGUID", "STATUS", "TERMINATED", "REF_DATE"):
        assert table.column(name).to_pylist() == [row[name] for row in real_rows], name
    coordinates = set(table.column("COORDINATE").to_pylist())
    assert "1.1" in coordinates and "1.10" in coordinates  # would collapse if read as numbers


def test_real_table_values(real_table, real_rows):
    result, table = real_table
    values = table.column("VALUE").to_pylist()
    statuses = table.column("STATUS").to_pylist()
    empty = [i for i, row in enumerate(real_rows) if row["VALUE"] == ""]
    assert len(empty) == 12_495
    assert all(values[i] is None and statuses[i] == ".." for i in empty)
    assert all(values[i] == float(row["VALUE"]) for i, row in enumerate(real_rows) if row["VALUE"] != "")
    assert dict(result.counts)["value_nulls"] == 12_495


def test_real_table_reference_period(real_table):
    result, table = real_table
    assert result.reference_start == date(1981, 5, 4)
    assert result.reference_end == date(2025, 6, 9)
    first = table.slice(0, 1).to_pylist()[0]
    assert first["REF_START_DATE"] == first["REF_END_DATE"] == date.fromisoformat(first["REF_DATE"])


def test_real_table_is_deterministic(real_table, tmp_path):
    result, _ = real_table
    again = statcan_table_to_parquet(REAL_TABLE_ZIP, tmp_path / "again.parquet", product_id="33100036")
    assert again.sha256 == result.sha256
    assert again.path.read_bytes() == result.path.read_bytes()


@pytest.mark.parametrize(
    "ref_date, start, end",
    [
        ("2020", date(2020, 1, 1), date(2020, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-02-29", date(2024, 2, 29), date(2024, 2, 29)),
        ("2019/2020", date(2019, 7, 1), date(2020, 6, 30)),
    ],
)
def test_reference_date_forms(make_wds_zip, tmp_path, ref_date, start, end):
    zip_path = make_wds_zip([wds_row(ref_date), wds_row(ref_date, "2")])
    result = statcan_table_to_parquet(zip_path, tmp_path / "out.parquet", product_id=PID)
    table = pq.read_table(result.path)
    assert table.column("REF_DATE").to_pylist() == [ref_date, ref_date]
    assert table.column("REF_START_DATE").to_pylist() == [start, start]
    assert table.column("REF_END_DATE").to_pylist() == [end, end]
    assert (result.reference_start, result.reference_end) == (start, end)


def test_fiscal_year_start_month_is_configurable(make_wds_zip, tmp_path):
    zip_path = make_wds_zip([wds_row("2019/2020")])
    result = statcan_table_to_parquet(zip_path, tmp_path / "out.parquet", product_id=PID, fiscal_year_start_month=4)
    assert (result.reference_start, result.reference_end) == (date(2019, 4, 1), date(2020, 3, 31))


def test_without_bom_and_unquoted(tmp_path):
    text = "\n".join(",".join(row) for row in [WDS_HEADER, wds_row("2020", "1.25")]) + "\n"
    zip_path = write_zip(tmp_path / "t.zip", {f"{PID}.csv": text.encode()})
    table = pq.read_table(statcan_table_to_parquet(zip_path, tmp_path / "o.parquet", product_id=PID).path)
    assert table.column_names[0] == "REF_DATE"
    assert table.column("VALUE").to_pylist() == [1.25]


def test_case_duplicate_headers_are_renamed(make_wds_zip, tmp_path):
    header = WDS_HEADER[:4] + ["Value", "Status"] + WDS_HEADER[4:]
    row = wds_row("2020", "7")
    zip_path = make_wds_zip([row[:4] + ["High value", "Open"] + row[4:]], header=header)
    messages: list[str] = []
    result = statcan_table_to_parquet(zip_path, tmp_path / "o.parquet", product_id=PID, log=messages.append)
    table = pq.read_table(result.path)
    assert table.column("Value.1").to_pylist() == ["High value"]
    assert table.column("Status.1").to_pylist() == ["Open"]
    assert table.column("VALUE").to_pylist() == [7.0]
    assert any("'Value' -> 'Value.1'" in message for message in messages)


def test_missing_decimals_column_is_fine(make_wds_zip, tmp_path):
    zip_path = make_wds_zip([wds_row("2020")[:-1]], header=WDS_HEADER[:-1])
    result = statcan_table_to_parquet(zip_path, tmp_path / "o.parquet", product_id=PID)
    assert "DECIMALS" not in dict(result.columns)


def test_ragged_rows_can_be_skipped_and_are_reported(make_wds_zip, tmp_path):
    rows = [wds_row("2020"), wds_row("2021") + ["extra"], wds_row("2022")]
    messages: list[str] = []
    result = statcan_table_to_parquet(make_wds_zip(rows), tmp_path / "o.parquet", product_id=PID, ragged_rows="skip", log=messages.append)
    assert result.rows == 2
    assert dict(result.counts)["ragged_rows_skipped"] == 1
    assert any("line(s) 3" in message for message in messages)


# --- bad input: each error names the product, the file and the line; nothing is written ---------


def _error(zip_path: Path, tmp_path: Path, **kwargs) -> str:
    out = tmp_path / "never.parquet"
    with pytest.raises(TransformError) as caught:
        statcan_table_to_parquet(zip_path, out, product_id=kwargs.pop("product_id", PID), **kwargs)
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial"))
    return str(caught.value)


def test_missing_member(tmp_path):
    zip_path = write_zip(tmp_path / "t.zip", {"99999999.csv": b"x"})
    message = _error(zip_path, tmp_path)
    assert PID in message and "t.zip" in message and "12345678.csv" in message and "99999999.csv" in message


def test_ragged_row_names_the_line(make_wds_zip, tmp_path):
    rows = [wds_row("2020")] * 5 + [wds_row("2021")[:-2]] + [wds_row("2022")]
    message = _error(make_wds_zip(rows), tmp_path)
    assert f"StatCan table {PID}" in message and "table.zip!12345678.csv" in message
    assert "line 7" in message and "13 fields where the header has 15" in message


def test_non_numeric_value_names_the_line(make_wds_zip, tmp_path):
    rows = [wds_row("2020")] * 3 + [wds_row("2021", "12,5")]
    message = _error(make_wds_zip(rows), tmp_path)
    assert "line 5" in message and "column VALUE: not a number: '12,5'" in message and PID in message


def test_bad_ref_date_names_the_line(make_wds_zip, tmp_path):
    rows = [wds_row("2020"), wds_row("2020-13")]
    message = _error(make_wds_zip(rows), tmp_path)
    assert "line 3" in message and "2020-13" in message


def test_decimals_out_of_range_names_the_line(make_wds_zip, tmp_path):
    message = _error(make_wds_zip([wds_row("2020", decimals="300")]), tmp_path)
    assert "line 2" in message and "DECIMALS" in message


def test_html_error_page_instead_of_zip(tmp_path):
    page = tmp_path / "t.zip"
    page.write_bytes(b"<!DOCTYPE html><html><body>503 Service Unavailable</body></html>")
    message = _error(page, tmp_path)
    assert "not a zip" in message and "HTML" in message and PID in message


def test_header_only(make_wds_zip, tmp_path):
    assert "no data rows" in _error(make_wds_zip([]), tmp_path)


def test_all_values_empty(make_wds_zip, tmp_path):
    rows = [wds_row("2020", "", status=".."), wds_row("2021", "", status="..")]
    assert "VALUE is empty on all 2 rows" in _error(make_wds_zip(rows), tmp_path)


def test_header_without_value(make_wds_zip, tmp_path):
    header = [name for name in WDS_HEADER if name != "VALUE"]
    message = _error(make_wds_zip([wds_row("2020")[:10] + wds_row("2020")[11:]], header=header), tmp_path)
    assert "line 1" in message and "VALUE" in message


def test_wrong_encoding_names_the_line(make_wds_zip, tmp_path):
    rows = [wds_row("2020"), ["2021", "Québec"] + wds_row("2021")[2:]]
    message = _error(make_wds_zip(rows, encoding="latin-1", bom=False), tmp_path)
    assert "line 3" in message and "not valid utf-8" in message


def test_latin1_when_told(make_wds_zip, tmp_path):
    rows = [["2021", "Québec"] + wds_row("2021")[2:]]
    zip_path = make_wds_zip(rows, encoding="latin-1", bom=False)
    result = statcan_table_to_parquet(zip_path, tmp_path / "o.parquet", product_id=PID, encoding="latin-1")
    assert pq.read_table(result.path).column("GEO").to_pylist() == ["Québec"]


def test_metadata_for_another_product(make_wds_zip, tmp_path):
    message = _error(make_wds_zip([wds_row("2020")]), tmp_path, cube_metadata={"productId": "33100036"})
    assert "33100036" in message and PID in message


def test_bad_product_id(make_wds_zip, tmp_path):
    assert "8 digits" in _error(make_wds_zip([wds_row("2020")]), tmp_path, product_id="33-10-0036")


def test_metadata_dimensions_missing_from_header_are_warned(make_wds_zip, tmp_path):
    metadata = {"productId": PID, "dimension": [{"dimensionNameEn": "Geography", "dimensionNameFr": "Géographie"},
                                                 {"dimensionNameEn": "Type of currency", "dimensionNameFr": "Genre de monnaie"}]}
    messages: list[str] = []
    statcan_table_to_parquet(make_wds_zip([wds_row("2020")]), tmp_path / "a.parquet", product_id=PID, cube_metadata=metadata, log=messages.append)
    assert any("warning" in m and "['Type of currency']" in m for m in messages)
    metadata["dimension"][1] = {"dimensionNameEn": "Type of thing", "dimensionNameFr": "Genre de chose"}
    messages.clear()
    statcan_table_to_parquet(make_wds_zip([wds_row("2020")], name="ok.zip"), tmp_path / "o.parquet", product_id=PID, cube_metadata=metadata, log=messages.append)
    assert not any("warning" in m for m in messages)
