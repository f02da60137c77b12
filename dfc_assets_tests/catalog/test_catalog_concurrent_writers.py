"""Two catalog writers at once (publication.catalog.build_catalog, update or full rebuild) on one LocalFolderStore:
no lost row, no corrupt file.

Each writer has its own scratch folder, as each Dagster run has. In Dagster the `stac_catalog` pool runs one
rebuild at a time; these tests run the domain function without it, as `dfc demo`/`dfc backfill` in process can.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from dfc_assets.catalog.file_checks import verify_catalog_file
from dfc_assets.catalog.geoparquet import read_catalog
from dfc_assets.catalog.inbox import announce_item
from dfc_assets.catalog.item import build_item
from dfc_assets.publication.catalog import build_catalog
from dfc_assets.publication.context import Publisher
from dfc_assets.registry import load_registry
from dfc_assets.storage import CATALOG, CATALOG_BUILDS_PREFIX, LocalFolderStore, VersionKeys
from dfc_assets_tests.catalog.catalog_samples import MONTREAL_BBOX, version_facts
from dfc_assets_tests.threads import in_threads

SPECS = sorted(load_registry(), key=lambda spec: spec.key)
WAIT_SECONDS = 60


def publish_item(store, spec, version: str, record: int) -> str:
    """What the stac_item step does: write the item, then announce it to the catalog's inbox."""
    item = build_item(version_facts(spec.id, version, record=record, bbox=MONTREAL_BBOX))
    store.put_bytes(VersionKeys(spec.id, version).stac_item, json.dumps(item).encode())
    announce_item(store, spec.id, version)
    return item["id"]


def publisher(store, scratch: Path, messages: list[str]) -> Publisher:
    """Only store, scratch and log are used by build_catalog."""
    return Publisher(settings=None, store=store, http=None, zenodo=None, scratch=scratch, log=messages.append)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path):
    return LocalFolderStore(tmp_path / "store", "http://127.0.0.1:9/dfc/")


@pytest.fixture
def seeded(store):
    """Three versions of one dataset and two of another, already published as items."""
    ids = [publish_item(store, SPECS[0], v, 100 + i) for i, v in enumerate(("2023-01-05", "2024-01-05", "2025-06-11"))]
    ids += [publish_item(store, SPECS[1], v, 200 + i) for i, v in enumerate(("2016", "2021"))]
    return ids


def published_ids(store) -> list[str]:
    path = store.root / CATALOG
    verify_catalog_file(path)
    return sorted(item["id"] for item in read_catalog(path))


def run_together(*calls) -> None:
    in_threads(*calls, wait_seconds=WAIT_SECONDS, what="a catalog rebuild")


def test_two_rebuilds_at_once_leave_a_valid_complete_catalog(store, seeded, tmp_path):
    logs: list[list[str]] = [[], []]
    for round_ in range(3):
        run_together(*(lambda i=i: build_catalog(publisher(store, tmp_path / f"scratch-{round_}-{i}", logs[i]), SPECS) for i in (0, 1)))
        assert published_ids(store) == sorted(seeded)
    for info in store.list(CATALOG_BUILDS_PREFIX):
        assert verify_catalog_file(store.root / info.key) == len(seeded), f"build {info.key} is not a complete valid catalog"
    assert not [p for p in (store.root / "catalog").rglob("*") if p.name.startswith(".")], "temporary files left behind"
    assert all(sum("written to" in m or "stays as it is" in m for m in messages) == 3 for messages in logs)


def test_two_runs_each_publishing_a_version_keep_both_rows(store, seeded, tmp_path):
    """Runs publish one new version each at once, then rebuild at once: the final catalog has both rows.

    (When one rebuild lists the items before the other run publishes, see the next test.)
    """
    dataset = SPECS[0]
    new_ids: list[str] = []
    run_together(*(lambda v=v, r=r: new_ids.append(publish_item(store, dataset, v, r)) for v, r in (("2025-07-11", 300), ("2025-08-11", 301))))
    run_together(*(lambda name=name: build_catalog(publisher(store, tmp_path / name, []), SPECS) for name in ("a", "b")))
    assert published_ids(store) == sorted(seeded + new_ids)


class PausingStore:
    """A store that holds its writer at one moment of its rebuild until told to go on: just before it uploads its
    build under catalog/builds/ ("upload"), or just before it copies a build over the published catalog ("publish")."""

    def __init__(self, inner: LocalFolderStore, moment: str) -> None:
        self.inner = inner
        self.moment = moment
        self.paused = threading.Event()
        self.go_on = threading.Event()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def _maybe_pause(self, moment: str) -> None:
        if moment == self.moment and not self.paused.is_set():
            self.paused.set()
            self.go_on.wait(timeout=WAIT_SECONDS)  # a writer that serialises rebuilds may keep the other one waiting

    def put_file(self, key: str, path: Path, **kwargs) -> None:
        if key.startswith(CATALOG_BUILDS_PREFIX):
            self._maybe_pause("upload")
        self.inner.put_file(key, path, **kwargs)

    def copy(self, source_key: str, dest_key: str, **kwargs) -> None:
        if dest_key == CATALOG:
            self._maybe_pause("publish")
        self.inner.copy(source_key, dest_key, **kwargs)


@pytest.mark.parametrize("moment", [
    "upload",
    "publish",
])
def test_a_rebuild_overtaken_by_a_newer_publication_does_not_publish_over_it(store, seeded, tmp_path, moment):
    dataset = SPECS[0]
    slow = PausingStore(store, moment)
    slow_id = publish_item(store, dataset, "2025-07-11", 300)
    slow_errors: list[BaseException] = []

    def slow_rebuild():
        try:
            build_catalog(publisher(slow, tmp_path / "slow", []), SPECS)
        except BaseException as error:  # noqa: BLE001
            slow_errors.append(error)

    thread = threading.Thread(target=slow_rebuild)
    thread.start()
    fast_log: list[str] = []
    fast_errors: list[BaseException] = []
    try:
        assert slow.paused.wait(timeout=WAIT_SECONDS), f"the slow rebuild never reached its {moment}"
        fast_id = publish_item(store, dataset, "2025-08-11", 301)

        def fast_rebuild():
            try:
                build_catalog(publisher(store, tmp_path / "fast", fast_log), SPECS)
            except BaseException as error:  # noqa: BLE001
                fast_errors.append(error)

        fast = threading.Thread(target=fast_rebuild)
        fast.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while fast.is_alive() and not any("waiting for" in message for message in fast_log) and time.monotonic() < deadline:
            time.sleep(0.05)  # the fast rebuild either finishes or waits for the slow writer's lease
    finally:
        slow.go_on.set()
        thread.join(timeout=4 * WAIT_SECONDS)
    fast.join(timeout=4 * WAIT_SECONDS)
    assert not slow_errors and not fast_errors
    assert published_ids(store) == sorted(seeded + [slow_id, fast_id]), "a row published by the other run was lost"


@pytest.mark.parametrize("full", [False, True], ids=["update", "full-rebuild"])
def test_a_broken_item_fails_the_rebuild_and_leaves_the_published_catalog_untouched(store, seeded, tmp_path, full):
    build_catalog(publisher(store, tmp_path / "first", []), SPECS)
    before = (store.root / CATALOG).read_bytes()
    builds_before = store.list(CATALOG_BUILDS_PREFIX)
    broken = build_item(version_facts(SPECS[0].id, "2025-09-11", record=400))
    broken["properties"]["sci:doi"] = 12345
    store.put_bytes(VersionKeys(SPECS[0].id, "2025-09-11").stac_item, json.dumps(broken).encode())
    announce_item(store, SPECS[0].id, "2025-09-11")
    with pytest.raises(Exception, match="2025-09-11"):
        build_catalog(publisher(store, tmp_path / "second", []), SPECS, full=full)
    assert (store.root / CATALOG).read_bytes() == before
    assert store.list(CATALOG_BUILDS_PREFIX) == builds_before
    assert published_ids(store) == sorted(seeded)
