from pathlib import Path

import pytest

from dfc_assets.registry import RegistryError, StatcanBoundarySource, StatcanTableSource, load_registry

VALID = """
datasets:
  - key: demo_table
    id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_33100036
    title: {en: Demo, fr: Démo}
    description: {en: A table}
    producer: Statistics Canada
    license: OGL-Canada-2.0
    source: {kind: statcan_table, product_id: "33100036"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datasets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_registry_has_the_real_table_and_the_boundary_fixture():
    specs = {spec.key: spec for spec in load_registry()}
    table = specs["statcan_table_33100036"]
    assert isinstance(table.source, StatcanTableSource) and table.source.product_id == "33100036"
    assert table.title.fr == "Taux de change moyens quotidiens en dollars canadiens, Banque du Canada"
    assert table.id.startswith("ca_statcan_2021A000011124_d4c-datapkg-statistical_")
    boundary = specs["fixture_provinces_territories"]
    assert isinstance(boundary.source, StatcanBoundarySource) and boundary.is_geospatial
    assert not hasattr(table, "partitions_name")  # a shard's partitions (dfc_assets.partitions), not a dataset's


def test_a_valid_file_loads(tmp_path):
    (spec,) = load_registry(write(tmp_path, VALID))
    assert spec.title.fr == "Démo" and spec.description.fr is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("product_id: \"33100036\"", "product_id: \"3310\""), "source.product_id"),
        (("kind: statcan_table", "kind: ftp_site"), "source.kind"),
        (("    license: OGL-Canada-2.0\n", ""), "license"),
        (("key: demo_table", "key: Demo-Table"), "key"),
        (("title: {en: Demo, fr: Démo}", "title: {de: Demo}"), "title"),
        (("producer: Statistics Canada", "producer: Statistics Canada\n    colour: red"), "colour"),
    ],
)
def test_errors_name_the_file_the_dataset_and_the_field(tmp_path, change, field):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    message = str(error.value)
    assert str(path) in message
    assert f"'{field}'" in message
    assert "dataset 'demo_table'" in message or "dataset 'Demo-Table'" in message


def test_duplicate_keys_are_refused(tmp_path):
    body = VALID.split("datasets:\n", 1)[1]
    path = write(tmp_path, "datasets:\n" + body + body.replace("ca_statcan", "ca_other"))
    with pytest.raises(RegistryError, match="'key': 'demo_table' is used by another dataset"):
        load_registry(path)
