"""`dfc transform` runs the assets' transform on local files, without Dagster, to the same bytes."""


from dfc_assets.cli.main import main
from dfc_assets.services.sample_sources import sample_table_dir
from dfc_assets.transform.statcan_table import statcan_table_to_parquet


def test_dfc_transform_statcan_table_gives_the_assets_bytes(tmp_path, capsys):
    zip_path = sample_table_dir() / "33100036-eng.zip"
    assert main(["transform", "statcan-table", str(zip_path), str(tmp_path / "cli.parquet")]) == 0
    direct = statcan_table_to_parquet(zip_path, tmp_path / "direct.parquet", product_id="33100036")
    assert (tmp_path / "cli.parquet").read_bytes() == direct.path.read_bytes()
    assert str(direct.rows) in capsys.readouterr().out


def test_dfc_transform_refuses_a_broken_zip_clearly(tmp_path, capsys):
    broken = tmp_path / "33100036-eng.zip"
    broken.write_bytes(b"<html>503 Service Unavailable</html>")
    assert main(["transform", "statcan-table", str(broken), str(tmp_path / "out.parquet")]) != 0
    assert "33100036" in capsys.readouterr().err
    assert not (tmp_path / "out.parquet").exists()
