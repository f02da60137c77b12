"""Collections: a statcan_tables entry expands into one dataset per WDS table, from the cube-list snapshot in the store.

The snapshot is taken from the synthetic WDS of the sample-source server on loopback, and kept in a real local store.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from dfc_assets.registry import (
    CUBE_LIST_KEY, RegistryError, StatcanTableSource, UnknownDataset, forget_registered_datasets, load_registry, read_cube_list,
    refresh_cube_list, registered_dataset, registered_datasets,
)
from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url
from dfc_assets.services.synthetic_wds import synthetic_cubes
from dfc_assets.sources.cadence import version_interval_days
from dfc_assets.storage.local import LocalFolderStore

SEED, COUNT = 5, 120
COLLECTION = """
collections:
  - key: statcan_tables
    kind: statcan_tables
    producer: Statistics Canada
    producer_url: https://www.statcan.gc.ca
    license: OGL-Canada-2.0
    creators: ["Statistics Canada", "Data for Canada"]
    owners: ["team:data-for-canada"]
    keywords: [statistics canada, wds table]
{extra}
"""
INDIVIDUAL = """
datasets:
  - key: statcan_table_{pid}
    id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{pid}
    title: {{en: Curated title}}
    description: {{en: Curated}}
    producer: Statistics Canada
    license: OGL-Canada-2.0
    min_version_interval: 3
    source: {{kind: statcan_table, product_id: "{pid}"}}
"""


class CountingStore(LocalFolderStore):
    """A real local store that counts its GETs."""

    gets = 0

    def get_bytes(self, key: str) -> bytes:
        type(self).gets += 1
        return super().get_bytes(key)


@pytest.fixture
def upstream(tmp_path):
    root = tmp_path / "sources"
    seed_sources(root, synthetic_tables=COUNT, synthetic_seed=SEED)
    server = sample_source_server(root).start()
    yield wds_base_url(server.base_url)
    server.stop()


@pytest.fixture
def store(tmp_path, upstream):
    forget_registered_datasets()
    store = CountingStore(tmp_path / "store", "http://127.0.0.1:9/")
    with httpx.Client() as client:
        refresh_cube_list(store, client, upstream)
    CountingStore.gets = 0
    yield store
    forget_registered_datasets()


def registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def current(cubes):
    return [c for c in cubes if not c.archived]


def test_every_current_table_is_its_own_dataset(tmp_path, store):
    path = registry(tmp_path, COLLECTION.format(extra=""))
    specs = registered_datasets(store, registry_path=path)
    cubes = synthetic_cubes(SEED, COUNT)
    expected = sorted([c.product_id for c in current(cubes)] + ["33100036"])
    assert [spec.source.product_id for spec in specs] == expected and len(expected) < COUNT + 1  # archived left out
    cube = cubes[0]
    spec = registered_dataset(store, f"statcan_table_{cube.product_id}", registry_path=path)
    assert spec.id == f"ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{cube.product_id}"
    assert (spec.title.en, spec.title.fr) == (cube.title_en, cube.title_fr)
    assert spec.keywords[:2] == ("statistics canada", "wds table") and "Government" in spec.keywords  # subject names from getCodeSets
    assert spec.license == "OGL-Canada-2.0" and spec.owners == ("team:data-for-canada",) and spec.collection == "statcan_tables"
    assert isinstance(spec.source, StatcanTableSource) and version_interval_days(spec) == 21
    real = registered_dataset(store, "statcan_table_33100036", registry_path=path)
    assert real.title.en.startswith("Daily average foreign exchange rates")


def test_the_snapshot_is_read_once_per_process(tmp_path, store):
    path = registry(tmp_path, COLLECTION.format(extra=""))
    for _ in range(3):
        registered_datasets(store, registry_path=path)
        registered_dataset(store, f"statcan_table_{synthetic_cubes(SEED, COUNT)[1].product_id}", registry_path=path)
    assert CountingStore.gets == 1


def test_filters_and_archived_cubes(tmp_path, store):
    cubes = synthetic_cubes(SEED, COUNT)
    archived = next(c for c in cubes if c.archived)
    wanted = {cubes[0].product_id, cubes[3].product_id, archived.product_id}
    extra = (f"    filters: {{product_ids: {sorted(wanted)}, include_archived: true}}\n"
             "    min_version_interval: 7")
    specs = registered_datasets(store, registry_path=registry(tmp_path, COLLECTION.format(extra=extra)))
    assert {spec.source.product_id for spec in specs} == wanted and {version_interval_days(s) for s in specs} == {7}
    forget_registered_datasets()
    daily_in_12 = {c.product_id for c in current(cubes) if c.frequency == 1 and any(code.startswith("12") for code in c.subject_codes)}
    extra = "    filters: {subject_codes: ['12'], frequencies: [1]}"
    specs = registered_datasets(store, registry_path=registry(tmp_path, COLLECTION.format(extra=extra)))
    assert {spec.source.product_id for spec in specs} == daily_in_12 and daily_in_12
    forget_registered_datasets()
    survey = cubes[7].survey_code
    extra = f"    filters: {{survey_codes: ['{survey}']}}"
    specs = registered_datasets(store, registry_path=registry(tmp_path, COLLECTION.format(extra=extra)))
    assert {spec.source.product_id for spec in specs} == {c.product_id for c in current(cubes) if c.survey_code == survey}


def test_an_individual_entry_wins_over_the_collection_member(tmp_path, store):
    pid = synthetic_cubes(SEED, COUNT)[2].product_id
    path = registry(tmp_path, INDIVIDUAL.format(pid=pid) + COLLECTION.format(extra=""))
    specs = registered_datasets(store, registry_path=path)
    same = [spec for spec in specs if spec.source.product_id == pid]
    assert len(same) == 1 and same[0].title.en == "Curated title" and same[0].collection is None
    assert version_interval_days(same[0]) == 3
    assert registered_dataset(store, f"statcan_table_{pid}", registry_path=path).title.en == "Curated title"


def test_an_unknown_dataset_names_the_key_and_the_registry(tmp_path, store):
    path = registry(tmp_path, COLLECTION.format(extra=""))
    with pytest.raises(UnknownDataset, match=r"dataset 'statcan_table_99999999' is not in registry .*registry.yaml"):
        registered_dataset(store, "statcan_table_99999999", registry_path=path)
    with pytest.raises(UnknownDataset, match="not a dataset key"):
        registered_dataset(store, "statcan_table_33100036\n", registry_path=path)


def test_without_a_snapshot_the_collection_is_empty_and_the_error_says_why(tmp_path):
    forget_registered_datasets()
    empty = LocalFolderStore(tmp_path / "empty", "http://127.0.0.1:9/")
    path = registry(tmp_path, COLLECTION.format(extra=""))
    assert registered_datasets(empty, registry_path=path) == () and read_cube_list(empty) is None
    with pytest.raises(UnknownDataset, match="no cube-list snapshot"):
        registered_dataset(empty, "statcan_table_10101000", registry_path=path)


def test_a_corrupt_snapshot_is_an_error_naming_it(tmp_path):
    forget_registered_datasets()
    store = LocalFolderStore(tmp_path / "store", "http://127.0.0.1:9/")
    store.put_bytes(CUBE_LIST_KEY, b"{}")
    with pytest.raises(ValueError, match="cube-list.json: not a cube-list snapshot"):
        registered_datasets(store, registry_path=registry(tmp_path, COLLECTION.format(extra="")))


@pytest.mark.parametrize("extra, problem", [
    ("    filters: {product_ids: ['3310003']}", "filters.product_ids"),
    ("    filters: {frequency: [1]}", "unknown field"),
    ("    filters: {frequencies: ['daily']}", "frequency codes"),
    ("    min_version_interval: -1", "min_version_interval"),
    ("    languages: [de]", "languages"),
])
def test_a_bad_collection_is_refused_naming_the_field(tmp_path, extra, problem):
    with pytest.raises(RegistryError, match=rf"collection 'statcan_tables'.*{problem}"):
        load_registry(registry(tmp_path, COLLECTION.format(extra=extra)))


def test_a_collection_registry_still_iterates_its_individual_entries(tmp_path):
    loaded = load_registry(registry(tmp_path, INDIVIDUAL.format(pid="33100036") + COLLECTION.format(extra="")))
    assert [spec.key for spec in loaded] == ["statcan_table_33100036"] and [c.key for c in loaded.collections] == ["statcan_tables"]


def test_the_shipped_example_collection_loads():
    example = Path(__file__).resolve().parents[2] / "dfc_assets" / "registry" / "examples" / "statcan-tables.yaml"
    loaded = load_registry(example)
    (collection,) = loaded.collections
    assert loaded.entries == () and collection.min_version_interval == 21 and not collection.include_archived
