from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_TABLE_ZIP = REPO / "dfc_assets" / "sample_data" / "statcan" / "33100036-eng.zip"
REAL_TABLE_METADATA = REPO / "dfc_assets" / "sample_data" / "statcan" / "33100036.json"

WDS_HEADER = ["REF_DATE", "GEO", "DGUID", "Type of thing", "UOM", "UOM_ID", "SCALAR_FACTOR", "SCALAR_ID",
              "VECTOR", "COORDINATE", "VALUE", "STATUS", "SYMBOL", "TERMINATED", "DECIMALS"]


def wds_row(ref_date: str, value: str = "1.5", *, coordinate: str = "1.1", status: str = "", decimals: str = "1") -> list[str]:
    return [ref_date, "Canada", "2016A000011124", "Widgets", "Number", "223", "units", "0",
            "v1", coordinate, value, status, "", "", decimals]


def csv_text(rows: list[list[str]], *, quote: bool = True) -> str:
    if quote:
        return "".join(",".join(f'"{field}"' for field in row) + "\n" for row in rows)
    return "".join(",".join(row) + "\n" for row in rows)


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def make_wds_zip(tmp_path: Path):
    """A WDS-style zip with ``{pid}.csv`` holding the given rows (after the standard header)."""

    def make(rows: list[list[str]], *, product_id: str = "12345678", header: list[str] | None = None,
             bom: bool = True, name: str = "table.zip", encoding: str = "utf-8") -> Path:
        text = csv_text([header or WDS_HEADER] + rows)
        data = ("\ufeff" if bom else "").encode(encoding) + text.encode(encoding)
        return write_zip(tmp_path / name, {f"{product_id}.csv": data, f"{product_id}_MetaData.csv": b"\xef\xbb\xbf\"Cube Title\"\n"})

    return make
