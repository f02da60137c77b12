"""Writes the bad-input corpus next to this file: small crafted upstream files and cases.json.

Run ``python -m dfc_assets_tests.transform.corpus.make_corpus`` to regenerate. Each case
names the file, the transform, its options and a regular expression the error must match
(or, for inputs that must pass, the columns the output must have). The shapefile cases are
written by GDAL, so their bytes may differ across GDAL versions; the others are byte-stable.
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PID = "12345678"
HEADER = ["REF_DATE", "GEO", "DGUID", "Type of thing", "UOM", "UOM_ID", "SCALAR_FACTOR", "SCALAR_ID",
          "VECTOR", "COORDINATE", "VALUE", "STATUS", "SYMBOL", "TERMINATED", "DECIMALS"]
FIXED_DATE = (2025, 6, 11, 0, 34, 0)


def row(ref_date: str = "2020-01-01", value: str = "1.5", status: str = "", decimals: str = "1", geo: str = "Canada") -> list[str]:
    return [ref_date, geo, "2016A000011124", "Widgets", "Number", "223", "units", "0", "v1", "1.1", value, status, "", "", decimals]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8", bom: bool = True) -> bytes:
    text = "".join(",".join(f'"{f}"' for f in r) + "\n" for r in [header] + rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def zip_bytes(members: list[tuple[str, bytes]] | list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in members:
            name, data = entry[0], entry[1]
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (entry[2] if len(entry) > 2 else 0o100644) << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def table_zip(rows: list[list[str]], **kwargs) -> bytes:
    return zip_bytes([(f"{PID}.csv", csv_bytes(rows, **kwargs))])


def good_table() -> bytes:
    return table_zip([row(f"2020-01-{day:02d}", str(day)) for day in range(1, 29)])


def corrupt(data: bytes) -> bytes:
    # Flip bytes inside the first member's compressed data (after its local header).
    name_length = int.from_bytes(data[26:28], "little")
    start = 30 + name_length + 20
    broken = bytearray(data)
    for offset in range(start, start + 8):
        broken[offset] ^= 0x5A
    return bytes(broken)


def shapefile_zip(frame, name: str, drop: tuple[str, ...] = ()) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        frame.to_file(Path(work) / f"{name}.shp", engine="pyogrio")
        members = [(p.name, p.read_bytes()) for p in sorted(Path(work).iterdir()) if p.suffix not in drop]
    return members


def vector_cases() -> dict[str, bytes]:
    import geopandas as gpd
    import shapely

    square = gpd.GeoDataFrame({"NAME": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    bowtie = gpd.GeoDataFrame({"NAME": ["bowtie"]}, geometry=[shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])], crs="EPSG:4326")
    lambert = gpd.GeoDataFrame({"NAME": ["b"]}, geometry=[shapely.box(7e6, 1e6, 7.1e6, 1.1e6)], crs="EPSG:3347")
    return {
        "shapefile_without_prj.zip": zip_bytes(shapefile_zip(square, "layer", drop=(".prj",))),
        "invalid_geometry.zip": zip_bytes(shapefile_zip(bowtie, "layer")),
        "mixed_crs.zip": zip_bytes(shapefile_zip(square, "wgs84") + shapefile_zip(lambert, "lambert")),
        "no_dataset.zip": zip_bytes([("readme.txt", b"no data here\n")]),
    }


def cases() -> tuple[dict[str, bytes], list[dict]]:
    files: dict[str, bytes] = {}
    table: list[dict] = []

    def case(name: str, data: bytes, error: str | None, *, transform: str = "statcan_table", options: dict | None = None,
             columns: list[str] | None = None, what: str) -> None:
        files[name] = data
        entry = {"file": name, "transform": transform, "options": options or {}, "what": what}
        entry.update({"error": error} if error else {"columns_include": columns})
        table.append(entry)

    good = good_table()
    case("html_error_page.zip", b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head></html>\n",
         r"HTML/XML page, not a zip", what="an HTML error page saved as the zip")
    case("truncated.zip", good[: len(good) // 2], r"no central directory \(truncated", what="a download cut in half")
    case("corrupt_member.zip", corrupt(good), r"corrupt or truncated while reading", what="flipped bytes inside the deflate stream")
    case("empty_file.zip", b"", r"the file is empty \(0 bytes\)", what="a zero-byte download")
    case("zip_bomb.zip", zip_bytes([(f"{PID}.csv", csv_bytes([row()]) + b" " * (48 * 1024 * 1024))]),
         r"inflates [\d,]+:1 .*zip bomb", what="a member that inflates > 500:1 past 8 MiB")
    case("zip_slip.zip", zip_bytes([("../../etc/cron.d/evil", b"* * * * * root true\n"), (f"{PID}.csv", csv_bytes([row()]))]),
         r"'../../etc/cron.d/evil' points outside the archive \(zip-slip\)", what="a member path climbing out")
    case("absolute_path.zip", zip_bytes([("/tmp/evil.csv", b"x"), (f"{PID}.csv", csv_bytes([row()]))]),
         r"'/tmp/evil.csv' points outside", what="an absolute member path")
    case("symlink_member.zip", zip_bytes([(f"{PID}.csv", b"/etc/passwd", stat.S_IFLNK | 0o777)]),
         r"'12345678.csv' is a symbolic link", what="a symlink entry")
    case("missing_member.zip", zip_bytes([("87654321.csv", csv_bytes([row()]))]), r"no member '12345678.csv'.*87654321.csv",
         what="the zip of another product")
    case("empty_member.zip", zip_bytes([(f"{PID}.csv", b"")]), r"12345678.csv\): the CSV member is empty", what="an empty CSV member")
    case("header_only.zip", table_zip([]), r"header but no data rows", what="a CSV with only a header")
    case("bom_only.zip", zip_bytes([(f"{PID}.csv", b"\xef\xbb\xbf\n")]), r"the CSV member is empty", what="a BOM and nothing else")
    case("wrong_encoding.zip", table_zip([row(), row(geo="Québec")], encoding="latin-1", bom=False),
         r"line 3: not valid utf-8", what="latin-1 bytes in a UTF-8 table")
    case("wrong_encoding_header.zip", table_zip([row()], header=HEADER[:3] + ["Catégorie"] + HEADER[4:], encoding="latin-1", bom=False),
         r"line 1 \(the header\) is not valid utf-8", what="latin-1 bytes in the header")
    case("ragged_row_short.zip", table_zip([row(), row(), row()[:-2]]), r"line 4: 13 fields where the header has 15",
         what="a row with too few fields")
    case("ragged_row_long.zip", table_zip([row(), row() + ["extra"]]), r"line 3: 16 fields where the header has 15",
         what="a row with too many fields (13100442)")
    case("non_numeric_value.zip", table_zip([row(), row(value="1,234.5")]), r"line 3: column VALUE: not a number: '1,234.5'",
         what="a thousands separator in VALUE")
    case("value_na_text.zip", table_zip([row(), row(value="NA")]), r"line 3: column VALUE: not a number: 'NA'",
         what="NA text in VALUE (not silently null)")
    case("decimals_overflow.zip", table_zip([row(decimals="1000")]), r"line 2: column DECIMALS: 1000 does not fit int8",
         what="DECIMALS out of range")
    case("bad_ref_date.zip", table_zip([row(), row("2020-13")]), r"line 3: REF_DATE '2020-13' is not a real date",
         what="month 13")
    case("bad_ref_date_form.zip", table_zip([row("Q1 2020")]), r"line 2: REF_DATE 'Q1 2020' is none of", what="an unknown REF_DATE form")
    case("bad_fiscal_year.zip", table_zip([row("2019/2021")]), r"line 2: fiscal REF_DATE '2019/2021'", what="a fiscal year spanning two")
    case("all_values_empty.zip", table_zip([row(value="", status=".."), row("2020-01-02", value="", status="..")]),
         r"VALUE is empty on all 2 rows", what="an all-empty VALUE")
    case("missing_value_column.zip", table_zip([row()[:10] + row()[11:]], header=HEADER[:10] + HEADER[11:]),
         r"line 1 \(the header\) lacks VALUE", what="no VALUE column")
    case("case_duplicate_headers.zip", table_zip([row()[:4] + ["v"] + row()[4:]], header=HEADER[:4] + ["Value"] + HEADER[4:]),
         None, columns=["Value.1", "VALUE"], what="Value beside VALUE (10100164): renamed, not an error")
    case("exact_duplicate_headers.zip", table_zip([row() + ["9"]], header=HEADER + ["VALUE"]), None,
         columns=["VALUE", "VALUE.1"], what="VALUE twice: the first stays typed, the second is text VALUE.1")
    census_header = "CENSUS_YEAR,DGUID,GEO_NAME,CHARACTERISTIC_ID,C1_COUNT_TOTAL,SYMBOL,C2_COUNT_MEN+,SYMBOL\n"
    census_rows = '2021,"2021A000224","Québec",1,8501833,"",,"x"\n2021,"2021A000235","Ontario",1,14223942,""\n'
    case("census_ragged_row.zip", zip_bytes([("98-401-X2021006_English_CSV_data_Quebec.csv", (census_header + census_rows).encode("latin-1"))]),
         r"data_Quebec.csv\): line 3: 6 fields where the header has 8", transform="census_profile", what="a short row in a latin-1 census profile")
    case("census_no_data_member.zip", zip_bytes([("README_meta.txt", b"readme")]), r"no data CSV", transform="census_profile",
         what="a census zip without its data CSVs")
    for name, data in vector_cases().items():
        files[name] = data
    table += [
        {"file": "shapefile_without_prj.zip", "transform": "vector", "options": {}, "what": "a shapefile without .prj",
         "error": r"has no coordinate reference system"},
        {"file": "invalid_geometry.zip", "transform": "vector", "options": {"invalid_geometries": "reject"},
         "what": "a self-intersecting polygon, rejected by configuration", "error": r"1 invalid geometry .*Self-intersection.*rejected"},
        {"file": "mixed_crs.zip", "transform": "vector", "options": {}, "what": "two shapefiles in different CRS",
         "error": r"several datasets inside \(lambert.shp, wgs84.shp\)"},
        {"file": "no_dataset.zip", "transform": "vector", "options": {}, "what": "a zip with no geodata",
         "error": r"no shapefile, GeoPackage, GML"},
        {"file": "html_error_page.zip", "transform": "vector", "options": {}, "what": "an HTML error page as a boundary zip",
         "error": r"HTML/XML page, not a zip"},
        {"file": "zip_slip.zip", "transform": "vector", "options": {}, "what": "zip-slip in a boundary zip",
         "error": r"points outside the archive \(zip-slip\)"},
    ]
    return files, table


def main() -> None:
    files, table = cases()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / "cases.json").write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(table)} cases, {len(files)} files in {HERE}")


if __name__ == "__main__":
    main()
