from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from dfc_assets.transform.census_profile import census_profile_to_parquet
from dfc_assets.transform.result import TransformError

from .conftest import write_zip

HEADER = ("CENSUS_YEAR,DGUID,ALT_GEO_CODE,GEO_LEVEL,GEO_NAME,TNR_SF,TNR_LF,DATA_QUALITY_FLAG,CHARACTERISTIC_ID,"
          "CHARACTERISTIC_NAME,CHARACTERISTIC_NOTE,C1_COUNT_TOTAL,SYMBOL,C2_COUNT_MEN+,SYMBOL,C3_COUNT_WOMEN+,SYMBOL,"
          "C10_RATE_TOTAL,SYMBOL,C11_RATE_MEN+,SYMBOL,C12_RATE_WOMEN+,SYMBOL\n")
CANADA = '2021,"2021A000011124","01","Country","Canada",3.1,4.2,"00000",1,"Population, 2021",1,36991981,"",,"",,"",,"",,"",,""\n'
QUEBEC = '2021,"2021A000224","24","Province","Québec",2.0,2.9,"00000",1,"Population, 2021",1,8501833,"",,"x",,"",12.5,"",,"",,""\n'
MONTREAL = '2021,"2021S0503462","462","Census metropolitan area","Montréal",2.7,3.7,"00010",1,"Population, 2021",1,4291732,"",,"",,"",,"",,"",,""\n'
ONTARIO = '2021,"2021A000235","35","Province","Ontario",2.1,2.8,"00000",1,"Population, 2021",1,14223942,"",,"",,"",,"",,"",,""\n'


def _zip(tmp_path, files: dict[str, str]):
    return write_zip(tmp_path / "98-401-X2021006_eng_CSV.zip", {name: text.encode("latin-1") for name, text in files.items()}
                     | {"README_meta.txt": b"readme"})


def test_latin1_regional_files(tmp_path):
    zip_path = _zip(tmp_path, {
        "98-401-X2021006_English_CSV_data_Quebec.csv": HEADER + CANADA + QUEBEC + MONTREAL,
        "98-401-X2021006_English_CSV_data_Ontario.csv": HEADER + CANADA + ONTARIO,
    })
    messages: list[str] = []
    result = census_profile_to_parquet(zip_path, tmp_path / "o.parquet", log=messages.append)
    table = pq.read_table(result.path)
    # Ontario's file sorts first; Canada is kept once, from it.
    assert table.column("GEO_NAME").to_pylist() == ["Canada", "Ontario", "Québec", "Montréal"]
    assert [name for name, _ in result.columns][11:17] == ["C1_COUNT_TOTAL", "SYMBOL", "C2_COUNT_MEN+", "SYMBOL.1", "C3_COUNT_WOMEN+", "SYMBOL.2"]
    assert "SYMBOL.5" in table.column_names
    types = dict(result.columns)
    assert types["C1_COUNT_TOTAL"] == "double" and types["CHARACTERISTIC_ID"] == "int32" and types["DATA_QUALITY_FLAG"] == "string"
    assert table.column("DATA_QUALITY_FLAG").to_pylist()[3] == "00010"
    assert table.column("ALT_GEO_CODE").to_pylist()[0] == "01"
    assert table.column("SYMBOL.1").to_pylist()[2] == "x"
    assert table.column("C2_COUNT_MEN+").to_pylist()[2] is None
    assert dict(result.counts)["repeated_geography_rows_dropped"] == 1
    again = census_profile_to_parquet(zip_path, tmp_path / "again.parquet")
    assert again.sha256 == result.sha256


def test_read_as_utf8_names_the_line(tmp_path):
    zip_path = _zip(tmp_path, {"x_data_Quebec.csv": HEADER + CANADA + QUEBEC})
    with pytest.raises(TransformError, match=r"x_data_Quebec\.csv\): line 3: not valid utf-8"):
        census_profile_to_parquet(zip_path, tmp_path / "o.parquet", encoding="utf-8")


def test_regional_headers_must_agree(tmp_path):
    zip_path = _zip(tmp_path, {"a_data_1.csv": HEADER + CANADA, "b_data_2.csv": HEADER.replace("TNR_LF", "TNR_XX") + CANADA})
    with pytest.raises(TransformError, match=r"b_data_2\.csv\): its header differs"):
        census_profile_to_parquet(zip_path, tmp_path / "o.parquet")
