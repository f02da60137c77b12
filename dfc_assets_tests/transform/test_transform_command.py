from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pyarrow.parquet as pq

from dfc_assets.fixtures.boundaries import write_synthetic_boundary_zip
from dfc_assets.transform.command import main

from .conftest import REAL_TABLE_METADATA, REAL_TABLE_ZIP


def test_statcan_table_command(tmp_path, capsys):
    source = tmp_path / "33100036-eng.zip"
    shutil.copy(REAL_TABLE_ZIP, source)
    assert main(["statcan-table", str(source), str(tmp_path / "t.parquet"), "--metadata", str(REAL_TABLE_METADATA)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["rows"] == 90_086 and printed["reference_start"] == "1981-05-04"
    assert pq.read_metadata(tmp_path / "t.parquet").num_rows == 90_086


def test_boundary_command(tmp_path, capsys):
    source = write_synthetic_boundary_zip(tmp_path / "pr.zip")
    assert main(["boundary", str(source), str(tmp_path / "pr.parquet")]) == 0
    assert json.loads(capsys.readouterr().out)["geometry_types"] == ["Polygon"]
    assert gpd.read_parquet(tmp_path / "pr.parquet").crs.to_epsg() == 4326


def test_refused_input_exits_1_with_the_cause(tmp_path, capsys):
    bad = tmp_path / "12345678-eng.zip"
    bad.write_bytes(b"<html>500</html>")
    assert main(["statcan-table", str(bad), str(tmp_path / "t.parquet")]) == 1
    assert "StatCan table 12345678 (12345678-eng.zip): it is an HTML/XML page" in capsys.readouterr().err
