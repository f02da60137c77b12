"""Two publishers of one dataset at once (a batch run and a retry, two backfills, the embedded runner beside the
daemon): the real steps on a local-folder store and on moto's S3, against the Zenodo emulator. One does the work,
the other waits for its lease (naming the holder), then finds the version published and skips it; a holder that
died without releasing its lease is taken over once the lease expires."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from dfc_assets.defs.resources import USER_AGENT
from dfc_assets.publication import artifact, raw, stac_item, torrent, zenodo_record
from dfc_assets.publication.context import Publisher
from dfc_assets.publication.published import Published
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.services.static_files import file_server
from dfc_assets.settings import load_settings, zenodo_token
from dfc_assets.storage import LocalFolderStore, S3ObjectStore, VersionKeys
from dfc_assets.storage.keys import publishing_lease
from dfc_assets.zenodo import ZenodoClient
from dfc_assets_tests.threads import in_threads

BOUNDARY = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")
VERSION = "2022-02-09"
STEPS = (raw.archive_raw, artifact.build_artifact, zenodo_record.publish_zenodo, torrent.make_torrent, stac_item.write_stac_item)
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """The sample sources and the Zenodo emulator (each test publishes into a store of its own)."""
    workdir = tmp_path_factory.mktemp("lease")
    services = LocalServices(workdir)
    with services:
        yield load_settings({"DFC_SERVICES_FILE": str(workdir / SERVICES_FILE)}), services


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """A folder served over HTTP, then a moto bucket (its objects are the web seeds the torrent step checks)."""
    if request.param == "local":
        server = file_server(tmp_path / "bucket").start()
        (tmp_path / "bucket").mkdir()
        try:
            yield LocalFolderStore(tmp_path / "bucket", server.base_url + "/")
        finally:
            server.stop()
        return
    client, bucket = request.getfixturevalue("s3_bucket")
    yield S3ObjectStore(client, bucket, f"{request.getfixturevalue('moto_s3_url')}/{bucket}/", object_acl="public-read")


def zenodo_records(services) -> dict:
    """Every record the emulator holds (drafts and published), by id."""
    return dict(services[1].emulator.state.data["records"])


@contextmanager
def publisher(services, store, scratch: Path, holder: str, messages: list[str]) -> Iterator[Publisher]:
    settings = services[0]
    scratch.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=60, headers={"User-Agent": USER_AGENT}) as http, \
            ZenodoClient(settings.zenodo_url, zenodo_token(settings, {}), user_agent=USER_AGENT) as zenodo:
        yield Publisher(settings=settings, store=store, http=http, zenodo=zenodo, scratch=scratch, log=messages.append, holder=holder)


def assert_published_once(store, before: dict, after: dict) -> None:
    """One Zenodo version, processed/ on it and whole, no lease left behind."""
    new = [r for recid, r in after.items() if recid not in before]
    assert len(new) == 1 and new[0]["published"] is not None, f"{len(new)} Zenodo records made for one version"
    published = Published(store)
    record = published.record(BOUNDARY.id, VERSION)
    assert record is not None and str(record.record_id) == str(new[0]["id"])
    pointer = published.latest(BOUNDARY.id)
    assert pointer is not None and pointer.version == VERSION and pointer.doi == record.doi
    assert published.stale_aliases(BOUNDARY.id) == []
    for f in pointer.files:
        assert store.head(f.processed_key).size == f.size
    assert store.head(publishing_lease(BOUNDARY.id)) is None


def test_two_publishers_of_one_version_at_once_publish_it_once(services, store, tmp_path):
    before = zenodo_records(services)
    logs: list[list[str]] = [[], []]

    def publish_all(n: int):
        with publisher(services, store, tmp_path / f"scratch-{n}", f"run {n}", logs[n]) as pub:
            return [step(pub, BOUNDARY, VERSION) for step in STEPS]

    first, second = in_threads(lambda: publish_all(0), lambda: publish_all(1), wait_seconds=WAIT_SECONDS, what="a publisher")
    assert first[2].doi == second[2].doi and first[3].info.infohash_v1 == second[3].info.infohash_v1
    assert_published_once(store, before, zenodo_records(services))
    assert [bool(first[4].latest_moved), bool(second[4].latest_moved)].count(True) == 1


class PausingStore:
    """A store that holds its publisher when it first writes the version's Zenodo journal (a draft is being made)."""

    def __init__(self, inner, key: str) -> None:
        self.inner, self.key = inner, key
        self.paused, self.go_on = threading.Event(), threading.Event()

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def put_bytes(self, key: str, data: bytes, **kwargs) -> None:
        if key == self.key and not self.paused.is_set():
            self.paused.set()
            self.go_on.wait(timeout=WAIT_SECONDS)
        self.inner.put_bytes(key, data, **kwargs)


def test_a_second_publisher_waits_for_the_holder_then_finds_the_version_on_zenodo(services, store, tmp_path):
    """Without the lease the second publisher would make a second Zenodo record while the first is paused."""
    with publisher(services, store, tmp_path / "prepare", "prepare", []) as pub:
        for step in STEPS[:2]:
            step(pub, BOUNDARY, VERSION)
    before = zenodo_records(services)
    slow_store = PausingStore(store, VersionKeys(BOUNDARY.id, VERSION).zenodo_journal)
    slow_log, fast_log, results, errors = [], [], {}, []

    def publish(name: str, on, log):
        try:
            with publisher(services, on, tmp_path / name, f"run {name}", log) as pub:
                results[name] = zenodo_record.publish_zenodo(pub, BOUNDARY, VERSION)
                results[name + "-rest"] = [step(pub, BOUNDARY, VERSION) for step in STEPS[3:]]
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)

    slow = threading.Thread(target=publish, args=("slow", slow_store, slow_log), daemon=True)
    slow.start()
    fast = threading.Thread(target=publish, args=("fast", store, fast_log), daemon=True)
    try:
        assert slow_store.paused.wait(timeout=WAIT_SECONDS), "the first publisher never reached Zenodo"
        fast.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while fast.is_alive() and not any("waiting for" in m for m in fast_log) and time.monotonic() < deadline:
            time.sleep(0.02)  # the second publisher waits for the lease (or, without one, publishes on its own)
    finally:
        slow_store.go_on.set()
        slow.join(timeout=4 * WAIT_SECONDS)
        if fast.ident is not None:  # started
            fast.join(timeout=4 * WAIT_SECONDS)
    assert not errors, errors
    waiting = next(m for m in fast_log if "waiting for" in m)
    assert f"dataset {BOUNDARY.key} ({BOUNDARY.id}) version {VERSION}, step zenodo_record" in waiting
    assert f"run slow, step zenodo_record of version {VERSION}" in waiting
    assert any("already published on Zenodo" in m for m in fast_log)
    assert results["fast"].doi == results["slow"].doi
    assert_published_once(store, before, zenodo_records(services))


def test_the_lease_of_a_holder_that_died_elsewhere_is_taken_over_once_expired(services, store, tmp_path):
    """A run killed on another host (its pod gone) left its lease; it stops blocking the dataset when it expires."""
    key = publishing_lease(BOUNDARY.id)
    store.put_bytes(key, json.dumps({"owner": "pod-7:1:dead", "host": f"not-{socket.gethostname()}", "pid": "1",
                                     "holder": "run 0ld-run (publish__statcan_boundary), step raw of version 2016",
                                     "expires": time.time() + 5}).encode())  # still live when a slow-starting publisher first looks
    messages: list[str] = []
    with publisher(services, store, tmp_path / "scratch", "run new", messages) as pub:
        archive = raw.archive_raw(pub, BOUNDARY, VERSION)
    assert not archive.reused and Published(store).raw_index(BOUNDARY.id, VERSION) is not None
    assert any("waiting for run 0ld-run" in m and "step raw of version 2016" in m for m in messages)
    assert any("expired; taking over" in m for m in messages)
    assert store.head(key) is None
