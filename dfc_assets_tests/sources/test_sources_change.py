"""Change detection against the sample-source server on loopback (real HTTP, real WDS-shaped answers)."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler

import pytest

from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import (
    BOUNDARY_PATH, install_boundary_fixture, install_statcan_table, sample_source_server, sample_table_dir, seed_sources, wds_base_url,
)
from dfc_assets.services.static_files import BackgroundServer
from dfc_assets.settings import Settings
from dfc_assets.sources.change import KnownVersions, check_all, wds_days_to_ask

SPECS = {spec.key: spec for spec in load_registry()}
TABLE, BOUNDARY = SPECS["statcan_table_33100036"], SPECS["fixture_provinces_territories"]
RELEASE_DAY = datetime(2025, 6, 11, 13, 0, tzinfo=timezone.utc)


@pytest.fixture
def upstream(tmp_path):
    root = tmp_path / "sources"
    seed_sources(root)
    server = sample_source_server(root).start()
    settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                        wds_base_url=wds_base_url(server.base_url), sources_base_url=server.base_url)
    yield root, settings
    server.stop()


def by_key(checks):
    return {check.dataset: check for check in checks}


def test_first_look_finds_both_current_versions(upstream):
    _, settings = upstream
    checks = by_key(check_all([TABLE, BOUNDARY], settings, states={}, known={}, now=RELEASE_DAY))
    assert checks[TABLE.key].new_version == "2025-06-11" and checks[TABLE.key].error is None
    assert checks[BOUNDARY.key].new_version == "2022-02-09"
    assert checks[BOUNDARY.key].state.sha256 and checks[BOUNDARY.key].state.etag


def test_nothing_changed_means_no_new_version(upstream):
    _, settings = upstream
    first = by_key(check_all([TABLE, BOUNDARY], settings, states={}, known={}, now=RELEASE_DAY))
    states = {key: check.state for key, check in first.items()}
    known = {TABLE.key: KnownVersions(("2025-06-11",)), BOUNDARY.key: KnownVersions(("2022-02-09",), first[BOUNDARY.key].state.sha256)}
    second = by_key(check_all([TABLE, BOUNDARY], settings, states=states, known=known, now=RELEASE_DAY))
    assert second[TABLE.key].new_version is None
    assert second[BOUNDARY.key].new_version is None and second[BOUNDARY.key].note == "304 Not Modified"


def test_new_validators_over_the_same_bytes_are_not_a_new_version(upstream):
    root, settings = upstream
    first = by_key(check_all([BOUNDARY], settings, states={}, known={}))
    served = root / BOUNDARY_PATH
    later = time.time() + 86400 * 3
    os.utime(served, (later, later))
    check = by_key(check_all([BOUNDARY], settings, states={BOUNDARY.key: first[BOUNDARY.key].state},
                             known={BOUNDARY.key: KnownVersions(("2022-02-09",), first[BOUNDARY.key].state.sha256)}))[BOUNDARY.key]
    assert check.new_version is None and "same bytes" in check.note
    assert check.state.etag != first[BOUNDARY.key].state.etag


def test_changed_bytes_make_the_next_version(upstream):
    root, settings = upstream
    first = by_key(check_all([BOUNDARY], settings, states={}, known={}))[BOUNDARY.key]
    install_boundary_fixture(root, revision=1)
    check = by_key(check_all([BOUNDARY], settings, states={BOUNDARY.key: first.state},
                             known={BOUNDARY.key: KnownVersions(("2022-02-09",), first.state.sha256)}))[BOUNDARY.key]
    assert check.new_version == "2022-02-10" and check.state.sha256 != first.state.sha256


def test_a_second_release_on_the_same_day_gets_a_counter(upstream):
    root, settings = upstream
    first = by_key(check_all([BOUNDARY], settings, states={}, known={}))[BOUNDARY.key]
    install_boundary_fixture(root, revision=1)
    stamp = datetime(2022, 2, 9, 18, tzinfo=timezone.utc).timestamp()
    os.utime(root / BOUNDARY_PATH, (stamp, stamp))
    check = by_key(check_all([BOUNDARY], settings, states={BOUNDARY.key: first.state},
                             known={BOUNDARY.key: KnownVersions(("2022-02-09",), first.state.sha256)}))[BOUNDARY.key]
    assert check.new_version == "2022-02-09.1"


def test_a_new_wds_release_is_seen_through_the_changed_cube_list(upstream):
    root, settings = upstream
    metadata = json.loads((sample_table_dir() / "33100036.json").read_text())
    install_statcan_table(root, metadata={**metadata, "releaseTime": "2025-06-12T08:30"}, csv_zip=sample_table_dir() / "33100036-eng.zip")
    known = {TABLE.key: KnownVersions(("2025-06-11",))}
    quiet_day = by_key(check_all([TABLE], settings, states={}, known=known, now=datetime(2025, 6, 20, 15, tzinfo=timezone.utc)))[TABLE.key]
    assert quiet_day.new_version is None and "getChangedCubeList" in quiet_day.note
    release_day = by_key(check_all([TABLE], settings, states={}, known=known, now=datetime(2025, 6, 12, 14, tzinfo=timezone.utc)))[TABLE.key]
    assert release_day.new_version == "2025-06-12"


def test_eastern_days_not_utc_days():
    # 2025-06-12 02:00 UTC is still 2025-06-11 in Toronto
    assert wds_days_to_ask(datetime(2025, 6, 12, 2, tzinfo=timezone.utc)) == ["2025-06-10", "2025-06-11"]


def hanging_handler(release: threading.Event, answered: threading.Event) -> type[BaseHTTPRequestHandler]:
    """A server that answers nothing until ``release`` (then sets ``answered``)."""

    class Hanging(BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(120)
            answered.set()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    return Hanging


def test_a_hanging_source_is_reported_and_never_blocks_the_others(upstream):
    _, settings = upstream
    release, answered = threading.Event(), threading.Event()
    slow = BackgroundServer(hanging_handler(release, answered)).start()
    try:
        hanging = replace(BOUNDARY, key="hanging_source", source=replace(BOUNDARY.source, url=slow.base_url + "/file.zip"))
        checks = by_key(check_all([hanging, TABLE, BOUNDARY], settings, states={}, known={}, now=RELEASE_DAY, source_timeout=5.0, deadline_seconds=30))
        assert not answered.is_set()  # the check gave up on the hanging source instead of waiting for it
    finally:
        release.set()
        slow.stop()
    assert checks["hanging_source"].error and checks["hanging_source"].new_version is None
    assert checks[TABLE.key].new_version == "2025-06-11" and checks[BOUNDARY.key].new_version == "2022-02-09"
