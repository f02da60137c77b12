"""A catalog update (announced items over the previous build) against a full rebuild of the same items.

The reference is always a second store holding only the same items (no inbox, no previous build), fully rebuilt:
the updated store must hold the same catalog file byte for byte, the same STAC JSON tree and the same feeds.
"""

from __future__ import annotations

import json
import shutil
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dfc_assets.catalog.geoparquet import read_catalog
from dfc_assets.catalog.inbox import announced
from dfc_assets.publication.catalog import CATALOG_HEAD, build_catalog
from dfc_assets.publication.context import PublicationError
from dfc_assets.publication.feeds import build_feeds
from dfc_assets.registry import Bilingual, load_registry
from dfc_assets.storage import CATALOG, CATALOG_BUILDS_PREFIX, STAC_JSON_PREFIX, LocalFolderStore, dataset_feed
from dfc_assets_tests.catalog.test_catalog_concurrent_writers import PausingStore, publish_item, publisher, run_together

BASE = sorted(load_registry(), key=lambda spec: spec.key)[0]
A, B, C = (replace(BASE, key=f"synthetic_{name}", id=f"ca_dfc-test_{name}_tables") for name in ("a", "b", "c"))
SPECS = [A, B, C]
WAIT_SECONDS = 60


@pytest.fixture
def store(tmp_path):
    return LocalFolderStore(tmp_path / "store", "http://127.0.0.1:9/dfc/")


def update(store, scratch: Path, specs=SPECS, *, full: bool = False, log: list[str] | None = None):
    return build_catalog(publisher(store, scratch, log if log is not None else []), specs, full=full)


def published_tree(store) -> dict[str, bytes]:
    """Every public output of the catalog: the file, the STAC JSON, the feeds."""
    files = {CATALOG: (store.root / CATALOG).read_bytes()}
    for prefix in (STAC_JSON_PREFIX, "feeds/"):
        files.update({info.key: store.get_bytes(info.key) for info in store.list(prefix)})
    return files


def full_rebuild_elsewhere(store, tmp_path: Path, specs=SPECS) -> LocalFolderStore:
    """A fresh store with only the items of `store` (no inbox, no head, no previous build), fully rebuilt."""
    fresh = LocalFolderStore(tmp_path / "fresh", store.public_base_url)
    shutil.copytree(store.root / "releases", fresh.root / "releases")
    result = update(fresh, tmp_path / "fresh-scratch", specs)
    assert result.mode == "full"
    return fresh


def assert_same_as_full_rebuild(store, tmp_path: Path, specs=SPECS) -> None:
    fresh = full_rebuild_elsewhere(store, tmp_path, specs)
    assert pq.read_table(store.root / CATALOG).equals(pq.read_table(fresh.root / CATALOG)), "rows differ from a full rebuild"
    ours, reference = published_tree(store), published_tree(fresh)
    assert sorted(ours) == sorted(reference)
    assert [key for key in ours if ours[key] != reference[key]] == []


def versions_of(store, dataset_id: str) -> list[tuple[str, bool]]:
    return [(i["properties"]["version"], i["properties"]["deprecated"]) for i in read_catalog(store.root / CATALOG) if i["collection"] == dataset_id]


def test_an_update_with_a_new_latest_a_backfill_and_a_new_dataset_equals_a_full_rebuild(store, tmp_path):
    for spec, versions in ((A, ("2023-01-05", "2025-06-11")), (B, ("2016", "2021"))):
        for i, version in enumerate(versions):
            publish_item(store, spec, version, 100 + i)
    assert update(store, tmp_path / "first").mode == "full"
    b_before = {k: v for k, v in published_tree(store).items() if B.id in k}

    publish_item(store, A, "2025-07-11", 110)   # a new latest version
    publish_item(store, A, "2024-01-05", 111)   # a backfilled old version between two published ones
    publish_item(store, C, "2020", 120)         # a dataset's first version
    result = update(store, tmp_path / "second")

    assert result.mode == "update" and result.changed_datasets == (A.id, C.id)
    assert versions_of(store, A.id) == [("2023-01-05", True), ("2024-01-05", True), ("2025-06-11", True), ("2025-07-11", False)]
    assert not announced(store), "the update must consume what it read"
    assert not [key for key in result.stac_written + result.feeds_written if B.id in key], "an untouched dataset was rewritten"
    assert {k: v for k, v in published_tree(store).items() if B.id in k} == b_before
    assert f"{STAC_JSON_PREFIX}catalog.json" in result.stac_written  # a new child: dataset C
    assert_same_as_full_rebuild(store, tmp_path)

    again = update(store, tmp_path / "third", full=True)
    assert again.mode == "full" and again.build_key == result.build_key
    assert again.stac_written == () and again.feeds_written == (), "a full rebuild after an update found something to rewrite"


def test_a_backfill_rewrites_only_its_neighbours_and_its_collection(store, tmp_path):
    for i, version in enumerate(("2021", "2023", "2024")):
        publish_item(store, A, version, 200 + i)
    publish_item(store, B, "2021", 210)
    update(store, tmp_path / "first")
    publish_item(store, A, "2022", 203)
    result = update(store, tmp_path / "second")
    folder = f"{STAC_JSON_PREFIX}{A.id}/"
    assert sorted(result.stac_written) == sorted([f"{folder}{A.id}_2021.json", f"{folder}{A.id}_2022.json",
                                                  f"{folder}{A.id}_2023.json", f"{folder}collection.json"])
    assert sorted(result.feeds_written) == sorted([dataset_feed(A.id), "feeds/torrents.xml"])
    item = json.loads(store.get_bytes(f"{folder}{A.id}_2022.json"))
    links = {link["rel"]: link["href"] for link in item["links"]}
    assert links["predecessor-version"].endswith(f"{A.id}_2021.json") and links["successor-version"].endswith(f"{A.id}_2023.json")
    assert "latest-version" not in links  # else every older version's file would change with each new version
    collection = json.loads(store.get_bytes(f"{folder}collection.json"))
    assert [l["title"] for l in collection["links"] if l["rel"] == "item"][-1] == "version 2024 (latest)"
    assert_same_as_full_rebuild(store, tmp_path)


def test_a_new_latest_version_rewrites_itself_the_previous_latest_and_the_collection(store, tmp_path):
    for i, version in enumerate(("2021", "2022", "2023")):
        publish_item(store, A, version, 250 + i)
    update(store, tmp_path / "first")
    publish_item(store, A, "2024", 253)
    result = update(store, tmp_path / "second")
    folder = f"{STAC_JSON_PREFIX}{A.id}/"
    assert sorted(result.stac_written) == sorted([f"{folder}{A.id}_2023.json", f"{folder}{A.id}_2024.json", f"{folder}collection.json"])
    previous = json.loads(store.get_bytes(f"{folder}{A.id}_2023.json"))
    assert previous["properties"]["deprecated"] is True
    assert [l["href"] for l in previous["links"] if l["rel"] == "successor-version"] == [f"./{A.id}_2024.json"]
    assert_same_as_full_rebuild(store, tmp_path)


def test_a_spec_change_of_an_untouched_dataset_reaches_its_collection_and_feed(store, tmp_path):
    publish_item(store, A, "2021", 300)
    publish_item(store, B, "2021", 301)
    update(store, tmp_path / "first")
    retitled = [A, replace(B, title=Bilingual(en="Renamed table", fr=B.title.fr)), C]
    result = update(store, tmp_path / "second", retitled)
    assert result.mode == "update" and result.changed_datasets == (B.id,)
    assert json.loads(store.get_bytes(f"{STAC_JSON_PREFIX}{B.id}/collection.json"))["title"] == "Renamed table"
    assert_same_as_full_rebuild(store, tmp_path, retitled)


def test_nothing_announced_reads_no_build_and_writes_nothing(store, tmp_path):
    publish_item(store, A, "2021", 400)
    first = update(store, tmp_path / "first")
    before = published_tree(store)
    result = update(store, tmp_path / "second")
    assert result.mode == "unchanged" and result.build_key == first.build_key and result.file.rows == 1
    assert published_tree(store) == before


def test_concurrent_publications_and_updates_lose_no_row(store, tmp_path):
    publish_item(store, A, "2000", 500)
    update(store, tmp_path / "first")
    published = ["2000"]

    def publish(spec, offset):
        for i in range(4):
            version = str(2001 + offset + 2 * i)
            publish_item(store, spec, version, 600 + offset * 10 + i)

    def updates(name):
        for i in range(3):
            update(store, tmp_path / f"{name}-{i}")

    run_together(lambda: publish(A, 0), lambda: publish(B, 1), lambda: updates("x"), lambda: updates("y"))
    update(store, tmp_path / "last")
    assert not announced(store)
    assert [v for v, _ in versions_of(store, A.id)] == published + ["2001", "2003", "2005", "2007"]
    assert [v for v, _ in versions_of(store, B.id)] == ["2002", "2004", "2006", "2008"]
    assert_same_as_full_rebuild(store, tmp_path)


def test_an_item_announced_while_an_update_runs_waits_for_the_next_one(store, tmp_path):
    publish_item(store, A, "2021", 700)
    update(store, tmp_path / "first")
    publish_item(store, A, "2022", 701)
    slow = PausingStore(store, "publish")
    thread = threading.Thread(target=lambda: update(slow, tmp_path / "slow"))
    thread.start()
    try:
        assert slow.paused.wait(timeout=WAIT_SECONDS)
        publish_item(store, A, "2023", 702)
    finally:
        slow.go_on.set()
        thread.join(timeout=4 * WAIT_SECONDS)
    assert [v for v, _ in versions_of(store, A.id)] == ["2021", "2022"]
    assert [a.version for a in announced(store)] == ["2023"]
    update(store, tmp_path / "next")
    assert [v for v, _ in versions_of(store, A.id)] == ["2021", "2022", "2023"]
    assert_same_as_full_rebuild(store, tmp_path)


def test_a_writer_whose_lease_was_taken_over_does_not_publish_over_the_other(store, tmp_path):
    """A writer paused past its lease finds the head moved on when it wakes: it publishes nothing, consumes nothing."""
    publish_item(store, A, "2021", 800)
    update(store, tmp_path / "first")
    publish_item(store, A, "2022", 801)
    slow = PausingStore(store, "upload")
    errors: list[BaseException] = []

    def slow_update():
        try:
            update(slow, tmp_path / "slow")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    thread = threading.Thread(target=slow_update)
    thread.start()
    try:
        assert slow.paused.wait(timeout=WAIT_SECONDS)
        head = json.loads(store.get_bytes(CATALOG_HEAD))
        store.put_bytes(CATALOG_HEAD, json.dumps({**head, "generation": head["generation"] + 1}).encode())  # another writer
        before = (store.root / CATALOG).read_bytes()
    finally:
        slow.go_on.set()
        thread.join(timeout=4 * WAIT_SECONDS)
    assert len(errors) == 1 and isinstance(errors[0], PublicationError) and "another writer" in str(errors[0])
    assert (store.root / CATALOG).read_bytes() == before
    assert [a.version for a in announced(store)] == ["2022"]
    assert store.list(CATALOG_BUILDS_PREFIX)  # the immutable build of the refused writer may stay; it is never published


def test_the_global_feed_holds_the_newest_entries_and_build_feeds_repairs_every_feed(store, tmp_path, monkeypatch):
    import dfc_assets.publication.feeds as feeds

    monkeypatch.setattr(feeds, "GLOBAL_FEED_ENTRIES", 3)
    for i, version in enumerate(("2019", "2020", "2021")):
        publish_item(store, A, version, 900 + i)
    for i, version in enumerate(("2022", "2023")):
        publish_item(store, B, version, 910 + i)
    update(store, tmp_path / "first")
    newest = [f"{B.id}_2023", f"{B.id}_2022", f"{A.id}_2021"]  # version_facts publishes each version in its own year
    assert global_feed_titles(store) == newest
    assert len(dataset_feed_guids(store, A.id)) == 3 and len(dataset_feed_guids(store, B.id)) == 2
    before = published_tree(store)
    store.delete(dataset_feed(A.id))
    reported = build_feeds(publisher(store, tmp_path / "report", []), SPECS)
    assert sorted(reported.dataset_keys) == [A.key, B.key] and reported.entries == 3
    assert not store.head(dataset_feed(A.id)), "without rewrite=True, build_feeds only reports the feeds"
    repaired = build_feeds(publisher(store, tmp_path / "repair", []), SPECS, rewrite=True)
    assert repaired == reported
    assert published_tree(store) == before


def _feed_items(store, key: str) -> list[ET.Element]:
    return ET.fromstring(store.get_bytes(key)).findall("./channel/item")


def global_feed_titles(store) -> list[str]:
    return [item.find("enclosure").get("url").rsplit("/", 1)[-1].removesuffix(".parquet.torrent")
            for item in _feed_items(store, "feeds/torrents.xml")]


def dataset_feed_guids(store, dataset_id: str) -> list[str]:
    return [item.findtext("guid") for item in _feed_items(store, dataset_feed(dataset_id))]


def test_a_dataset_left_out_of_the_registry_and_back_again_equals_a_full_rebuild(store, tmp_path):
    publish_item(store, A, "2021", 1000)
    publish_item(store, B, "2021", 1001)
    update(store, tmp_path / "first")
    assert update(store, tmp_path / "without-b", [A, C]).mode == "update"
    assert {i["collection"] for i in read_catalog(store.root / CATALOG)} == {A.id}
    publish_item(store, A, "2022", 1002)
    back = update(store, tmp_path / "b-again")
    assert back.mode == "full", "the previous build does not hold B's versions; only a full rebuild finds them"
    assert {i["collection"] for i in read_catalog(store.root / CATALOG)} == {A.id, B.id}
    assert_same_as_full_rebuild(store, tmp_path)
