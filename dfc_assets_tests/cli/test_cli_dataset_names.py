"""`dfc catalog` and `dfc seed volunteer` name a collection member by its key, as they name an individual entry."""

from __future__ import annotations

import json

import pytest

from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog.geoparquet import write_catalog
from dfc_assets.catalog.item import build_item
from dfc_assets.cli.catalog import default_catalog
from dfc_assets.cli.dataset_names import PRODUCTION_VARIABLES, naming_store
from dfc_assets.cli.main import main
from dfc_assets.cli.seed import dataset_patterns
from dfc_assets.registry import CUBE_LIST_KEY, CubeListSnapshot, forget_registered_datasets, statcan_table_id
from dfc_assets.registry.cube_list import trim_cube
from dfc_assets.services.synthetic_wds import synthetic_cubes
from dfc_assets.storage.local import LocalFolderStore
from dfc_assets_tests.catalog.catalog_samples import dataset_facts, version_facts

COLLECTION = ("collections:\n  - {key: statcan_tables, kind: statcan_tables, producer: Statistics Canada, license: OGL-Canada-2.0,"
              " filters: {include_archived: true}}\n")
CUBES = synthetic_cubes(7, 4)
MEMBER = CUBES[2].product_id


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    for name in PRODUCTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    registry = tmp_path / "registry.yaml"
    registry.write_text(COLLECTION, encoding="utf-8")
    monkeypatch.setenv("DFC_REGISTRY", str(registry))
    store = LocalFolderStore(tmp_path / "store", "http://127.0.0.1:9/")
    snapshot = CubeListSnapshot("2025-06-20T00:00:00+00:00", tuple(trim_cube(c.lite(c.first_release)) for c in CUBES), {})
    store.put_bytes(CUBE_LIST_KEY, snapshot.to_bytes())
    member_id = statcan_table_id(MEMBER)
    items = [build_item(version_facts(member_id, "2025-06-11", record=700))]
    write_catalog(items, [build_collection(dataset_facts(member_id), items)], default_catalog(tmp_path))
    forget_registered_datasets()
    yield tmp_path
    forget_registered_datasets()


def test_catalog_finds_a_collection_member_by_its_key(workdir, capsys):
    assert main(["catalog", "latest", f"statcan_table_{MEMBER}", "--workdir", str(workdir), "--json"]) == 0
    latest = json.loads(capsys.readouterr().out)
    assert latest["version"] == "2025-06-11" and latest["doi"] == "10.5281/zenodo.700"


def test_a_volunteer_selects_a_collection_member_by_its_key(workdir):
    store = naming_store(workdir)
    assert dataset_patterns([f"statcan_table_{MEMBER}", "ca_statcan_*", "statcan_table_99999999"], store) == (
        statcan_table_id(MEMBER), "ca_statcan_*", "statcan_table_99999999")
    assert dataset_patterns([f"statcan_table_{MEMBER}"], None) == (f"statcan_table_{MEMBER}",)  # no store: no members known


def test_without_a_store_nothing_names_members(tmp_path):
    assert naming_store(tmp_path) is None
