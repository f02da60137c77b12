"""Change detection over many StatCan tables asks upstream O(changed) times (synthetic WDS on loopback)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from dfc_assets.registry import Registry, StatcanTablesCollection, fetch_cube_list
from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url
from dfc_assets.services.synthetic_wds import publish_synthetic_release, synthetic_product_ids
from dfc_assets.settings import Settings
from dfc_assets.sources.cadence import PublishNow, WaitUntil, decide
from dfc_assets.sources.change import KnownVersions, check_all

COUNT = 300
QUIET_DAY = datetime(2025, 6, 20, 16, 0, tzinfo=timezone.utc)


class Upstream:
    def __init__(self, root, base_url):
        self.root, self.requests = root, []
        self.settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                                 wds_base_url=wds_base_url(base_url), sources_base_url=base_url)

    def client(self, timeout: float) -> httpx.Client:
        return httpx.Client(timeout=timeout, event_hooks={"request": [self.requests.append]})

    def asked(self) -> list[str]:
        asked = [request.url.path.rsplit("/rest/", 1)[-1] for request in self.requests]
        self.requests.clear()
        return asked


@pytest.fixture
def upstream(tmp_path):
    root = tmp_path / "sources"
    seed_sources(root, synthetic_tables=COUNT, synthetic_seed=11)
    server = sample_source_server(root).start()
    yield Upstream(root, server.base_url)
    server.stop()


def tables(upstream):
    with httpx.Client() as client:
        snapshot = fetch_cube_list(client, upstream.settings.wds_base_url)
    collection = StatcanTablesCollection(key="all_tables", producer="Statistics Canada", license="OGL-Canada-2.0")
    return snapshot, Registry(path=upstream.root / "r.yaml", entries=(), collections=(collection,)).datasets(snapshot)


def tick(upstream, specs, snapshot, states, known, now=QUIET_DAY, **options):
    checks = check_all(specs, upstream.settings, states=states, known=known, now=now, cube_list=snapshot,
                       client_factory=upstream.client, **options)
    return {check.dataset: check for check in checks}


def after(checks, known):
    states = {key: check.state for key, check in checks.items()}
    known = dict(known)
    for key, check in checks.items():
        if check.new_version:
            known[key] = KnownVersions((*known.get(key, KnownVersions()).versions, check.new_version))
    return states, known


def test_first_look_takes_every_release_from_the_snapshot_then_three_changes_cost_two_requests(upstream):
    snapshot, specs = tables(upstream)
    assert len(specs) > 250
    first = tick(upstream, specs, snapshot, {}, {})
    assert upstream.asked() == ["getChangedCubeList/2025-06-19", "getChangedCubeList/2025-06-20"]
    assert all(check.new_version and check.release and not check.error for check in first.values())
    assert first["statcan_table_33100036"].new_version == "2025-06-11"
    states, known = after(first, {})
    quiet = tick(upstream, specs, snapshot, states, known)
    assert len(upstream.asked()) == 2 and not [c for c in quiet.values() if c.new_version or c.error]

    changed = synthetic_product_ids(upstream.root)[5:8]
    publish_synthetic_release(upstream.root, changed, datetime(2025, 6, 20, 12, 30, tzinfo=timezone.utc))
    busy = tick(upstream, specs, snapshot, states, known)
    assert len(upstream.asked()) == 2
    new = {key: check for key, check in busy.items() if check.new_version}
    assert sorted(new) == sorted(f"statcan_table_{pid}" for pid in changed)
    assert {check.new_version for check in new.values()} == {"2025-06-20"}
    assert {check.release.released_at for check in new.values()} == {datetime(2025, 6, 20, 12, 30, tzinfo=timezone.utc)}
    states, known = after(busy, known)
    again = tick(upstream, specs, snapshot, states, known)
    assert not [c for c in again.values() if c.new_version]


def test_a_table_neither_known_nor_in_the_snapshot_costs_one_metadata_request(upstream):
    snapshot, specs = tables(upstream)
    stale = replace(snapshot, cubes=tuple(c for c in snapshot.cubes if c["productId"] != specs[0].source.product_id))
    checks = tick(upstream, specs[:20], stale, {}, {})
    assert sorted(upstream.asked()) == ["getChangedCubeList/2025-06-19", "getChangedCubeList/2025-06-20", "getCubeMetadata"]
    assert checks[specs[0].key].new_version and "getCubeMetadata" in checks[specs[0].key].note


def test_missed_days_since_the_last_tick_are_asked_once_each(upstream):
    snapshot, specs = tables(upstream)
    tick(upstream, specs[:5], snapshot, {}, {}, last_tick=QUIET_DAY - timedelta(days=3))
    assert upstream.asked() == [f"getChangedCubeList/2025-06-{day}" for day in (17, 18, 19, 20)]


def test_a_failing_changed_cube_list_is_reported_without_a_request_per_table(upstream):
    snapshot, specs = tables(upstream)
    states, known = after(tick(upstream, specs, snapshot, {}, {}), {})
    upstream.asked()
    broken = replace(upstream.settings, wds_base_url=upstream.settings.wds_base_url + "/missing")
    upstream.settings = broken
    checks = tick(upstream, specs, snapshot, states, known)
    assert len(upstream.asked()) == 1  # the first day's call failed; nothing per table
    assert all(check.error and "getChangedCubeList failed" in check.error and check.dataset in check.error for check in checks.values())
    assert all(check.state == states[key] for key, check in checks.items())


def test_the_sensor_composes_checks_and_cadence_into_one_version_for_five_daily_changes(upstream):
    snapshot, specs = tables(upstream)
    spec = specs[0]  # first released 2025-06-02 08:30 Eastern
    first = tick(upstream, [spec], snapshot, {}, {}, now=datetime(2025, 6, 2, 13, tzinfo=timezone.utc))[spec.key]
    states, known = after({spec.key: first}, {})
    last_release, versions, pending, decisions = first.release.released_at, known[spec.key].versions, [], []
    for day in range(3, 8):
        moment = datetime(2025, 6, day, 12, 30, tzinfo=timezone.utc)
        publish_synthetic_release(upstream.root, [spec.source.product_id], moment)
        now = moment + timedelta(hours=1)
        check = tick(upstream, [spec], snapshot, states, known, now=now)[spec.key]
        states = {spec.key: check.state}
        pending.append(check.release)
        decisions.append(decide(last_release=last_release, pending=pending, now=now, min_interval_days=21, taken_versions=versions))
    assert all(isinstance(decision, WaitUntil) for decision in decisions)
    quiet = tick(upstream, [spec], snapshot, states, known, now=datetime(2025, 6, 23, 13, tzinfo=timezone.utc))[spec.key]
    assert quiet.release is None
    due = decide(last_release=last_release, pending=pending, now=datetime(2025, 6, 23, 13, tzinfo=timezone.utc), min_interval_days=21,
                 taken_versions=versions)
    assert isinstance(due, PublishNow) and due.version == "2025-06-07" and len(due.releases) == 5
