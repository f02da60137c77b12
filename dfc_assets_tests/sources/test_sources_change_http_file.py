"""Change detection of http_file and census_profile sources: conditional GET, then sha256 (as boundaries)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from dfc_assets.registry import CensusProfileSource, HttpFileSource, load_registry
from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url
from dfc_assets.settings import Settings
from dfc_assets.sources.change import KnownVersions, SourceState, check_all

BASE = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")
CSV_FILE = replace(BASE, key="places_csv", id="ca_test_places", source=HttpFileSource(url="{sources_base_url}/files/places.csv", format="csv"))
CENSUS = replace(BASE, key="census", id="ca_test_census", source=CensusProfileSource(url="{sources_base_url}/files/98-401.zip"))


@pytest.fixture
def upstream(tmp_path):
    root = tmp_path / "sources"
    seed_sources(root)
    (root / "files").mkdir()
    (root / "files" / "places.csv").write_bytes(b"id,name\n1,a\n")
    (root / "files" / "98-401.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    stamp = time.mktime((2024, 3, 1, 12, 0, 0, 0, 0, -1))
    for name in ("places.csv", "98-401.zip"):
        os.utime(root / "files" / name, (stamp, stamp))
    server = sample_source_server(root).start()
    settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                        wds_base_url=wds_base_url(server.base_url), sources_base_url=server.base_url)
    yield root, settings
    server.stop()


def test_http_file_first_look_then_304_then_new_bytes(upstream):
    root, settings = upstream
    (first,) = check_all([CSV_FILE], settings, states={}, known={})
    assert first.error is None and first.new_version == "2024-03-01" and first.state.sha256 and first.state.etag
    known = KnownVersions(("2024-03-01",), first.state.sha256)
    (again,) = check_all([CSV_FILE], settings, states={CSV_FILE.key: first.state}, known={CSV_FILE.key: known})
    assert again.new_version is None and again.note == "304 Not Modified"
    (root / "files" / "places.csv").write_bytes(b"id,name\n1,a\n2,b\n")
    (changed,) = check_all([CSV_FILE], settings, states={CSV_FILE.key: first.state}, known={CSV_FILE.key: known})
    assert changed.new_version and changed.new_version != "2024-03-01" and changed.state.sha256 != first.state.sha256


def test_census_profile_is_checked_like_any_url_source(upstream):
    _, settings = upstream
    (check,) = check_all([CENSUS], settings, states={}, known={})
    assert check.error is None and check.new_version == "2024-03-01"


def test_a_missing_http_file_is_reported_not_raised(upstream):
    _, settings = upstream
    missing = replace(CSV_FILE, source=replace(CSV_FILE.source, url="{sources_base_url}/files/gone.csv"))
    (check,) = check_all([missing], settings, states={}, known={})
    assert check.new_version is None and "answered 404 Not Found" in check.error and SourceState() == check.state
