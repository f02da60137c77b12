"""The upstream sensor, evaluated in process against the real local services."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from dfc_assets.defs.resources import PublisherResource
from dfc_assets.defs.sensor_state import SENSOR_STATE_KEY
from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import install_statcan_table, sample_table_dir

SPECS = {spec.key: spec for spec in load_registry()}


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices

    with LocalServices(tmp_path) as urls:
        monkeypatch.setenv("DFC_SERVICES_FILE", str(tmp_path / SERVICES_FILE))
        from dfc_assets.definitions import build_definitions

        defs = build_definitions()
        with dg.DagsterInstance.ephemeral() as instance:
            yield defs, instance, urls


def tick(defs, instance, cursor=None, name="dfc_upstream_changes"):
    sensor = defs.resolve_sensor_def(name)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources={"publisher": PublisherResource()})
    return sensor(context)  # the daemon applies dynamic_partitions_requests before it checks run requests


def test_the_sensor_adds_each_new_version_and_requests_its_run_in_the_same_tick(fresh):
    defs, instance, urls = fresh
    first = tick(defs, instance)
    requested = {(r.job_name, r.partition_key, r.run_key) for r in first.run_requests}
    assert requested == {
        ("publish__statcan_table_33", "statcan_table_33100036:2025-06-11", "statcan_table_33100036:2025-06-11"),
        ("publish__statcan_boundary", "fixture_provinces_territories:2022-02-09", "fixture_provinces_territories:2022-02-09"),
        ("publish__prebuilt", "fixture_provinces_territories_tiles:2025-08-10", "fixture_provinces_territories_tiles:2025-08-10"),
    }
    tags = {r.tags["dfc/dataset"]: r.tags for r in first.run_requests}
    assert tags["statcan_table_33100036"]["dfc/shard"] == "statcan_table_33"
    assert tags["statcan_table_33100036"]["dfc/upstream_releases"] == "2025-06-11T12:30:00+00:00"  # 08:30 Eastern
    added = {(r.partitions_def_name, tuple(r.partition_keys)) for r in first.dynamic_partitions_requests}
    assert added == {("dfc__statcan_table_33__versions", ("statcan_table_33100036:2025-06-11",)),
                     ("dfc__statcan_boundary__versions", ("fixture_provinces_territories:2022-02-09",)),
                     ("dfc__prebuilt__versions", ("fixture_provinces_territories_tiles:2025-08-10",))}
    for request in first.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    state = json.loads((Path(urls.store_root) / SENSOR_STATE_KEY).read_text())
    assert set(state["sources"]) == set(SPECS)

    second = tick(defs, instance, cursor=first.cursor)
    assert not second.run_requests and "0 new versions" in second.skip_reason.skip_message

    today = datetime.now(ZoneInfo("America/Toronto")).strftime("%Y-%m-%d")  # WDS lists today's releases in Eastern days
    metadata = json.loads((sample_table_dir() / "33100036.json").read_text())
    install_statcan_table(Path(urls.sources_root), metadata={**metadata, "releaseTime": f"{today}T08:30"}, csv_zip=sample_table_dir() / "33100036-eng.zip")
    third = tick(defs, instance, cursor=second.cursor)
    assert [(r.partition_key, r.run_key) for r in third.run_requests] == [(f"statcan_table_33100036:{today}", f"statcan_table_33100036:{today}")]


def test_sensors_and_schedules_exist_stopped_unless_automation_is_on(fresh, monkeypatch):
    defs, _, _ = fresh
    for name in ("dfc_upstream_changes", "dfc_daily_source_check", "dfc_catalog_follows_items"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.STOPPED
    monkeypatch.setenv("DFC_AUTOMATION", "on")
    from dfc_assets.definitions import build_definitions

    production = build_definitions()
    assert production.resolve_sensor_def("dfc_upstream_changes").default_status == dg.DefaultSensorStatus.RUNNING
    assert production.resolve_schedule_def("dfc_weekly_fixity_audit").default_status == dg.DefaultScheduleStatus.RUNNING
    assert production.resolve_schedule_def("dfc_weekly_catalog_rebuild").execution_timezone == "America/Toronto"


class StorePublisher:
    """What the sensor asks of PublisherResource: settings and the store (no Zenodo needed)."""

    def __init__(self, settings, store) -> None:
        self._settings, self._store = settings, store

    def settings(self):
        return self._settings

    def store(self):
        return self._store


def test_a_table_changing_on_five_days_inside_its_window_yields_one_version(tmp_path, monkeypatch):
    """Through the sensor's own tick (state object, cadence, synthetic WDS): 5 daily releases coalesce into one version."""
    from datetime import timedelta

    from dfc_assets.defs.automation import evaluate_sources
    from dfc_assets.partitions import partitions_name, shard_of, statcan_table_shard
    from dfc_assets.registry import forget_registered_datasets
    from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url
    from dfc_assets.services.synthetic_wds import SyntheticWds, publish_synthetic_release, synthetic_product_ids
    from dfc_assets.settings import Settings
    from dfc_assets.storage import LocalFolderStore

    sources = tmp_path / "sources"
    seed_sources(sources, synthetic_tables=1, synthetic_seed=3)
    (pid,) = synthetic_product_ids(sources, include_archived=True)
    wds = SyntheticWds.read(sources)
    first_release = wds.latest(wds.cube(pid))[0]
    registry = tmp_path / "registry.yaml"
    registry.write_text("collections:\n  - {key: tables, kind: statcan_tables, producer: Statistics Canada, license: OGL-Canada-2.0,\n"
                        f"     filters: {{include_archived: true, product_ids: ['{pid}']}}}}\n", encoding="utf-8")
    monkeypatch.setenv("DFC_REGISTRY", str(registry))
    monkeypatch.setenv("DFC_CACHE_DIR", str(tmp_path / "cache"))
    forget_registered_datasets()
    server = sample_source_server(sources).start()
    try:
        settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                            local_store_root=tmp_path / "store", wds_base_url=wds_base_url(server.base_url), sources_base_url=server.base_url)
        publisher = StorePublisher(settings, LocalFolderStore(tmp_path / "store", settings.public_base_url))
        with dg.DagsterInstance.ephemeral() as instance:
            context = dg.build_sensor_context(instance=instance)

            def tick(now):
                new, _ = evaluate_sources(context, publisher, [statcan_table_shard(pid)], "test", now=now)
                for item in new:  # as the daemon applies the tick's partition requests
                    instance.add_dynamic_partitions(partitions_name(shard_of(item.spec)), [item.partition_key])
                return new

            (first,) = tick(first_release + timedelta(hours=1))
            days = [first_release + timedelta(days=day) for day in range(1, 6)]
            for day in days:
                publish_synthetic_release(sources, [pid], day)
                assert tick(day + timedelta(hours=1)) == [], f"a release {day:%Y-%m-%d} inside the 21-day window waits"
            (coalesced,) = tick(first_release + timedelta(days=21, hours=2))
            assert tick(first_release + timedelta(days=21, hours=3)) == []
    finally:
        server.stop()
        forget_registered_datasets()
    eastern = ZoneInfo("America/Toronto")
    assert first.version == first_release.astimezone(eastern).strftime("%Y-%m-%d")
    assert coalesced.version == days[-1].astimezone(eastern).strftime("%Y-%m-%d")
    assert len(coalesced.upstream_releases) == 5


def test_many_new_versions_of_a_shard_become_runs_over_ranges_in_the_order_they_are_added():
    from dfc_assets.defs.automation import NewVersion, partition_requests, run_requests, upstream_releases_of

    table = SPECS["statcan_table_33100036"]
    new = [NewVersion(table, f"2025-06-1{day}", (f"2025-06-1{day}T12:30:00+00:00",)) for day in range(5)]
    (added,) = partition_requests(new)
    assert list(added.partition_keys) == [item.partition_key for item in new]
    requests = run_requests(new, "upstream_change", per_run=2)
    ranges = [(r.tags.get("dagster/asset_partition_range_start"), r.tags.get("dagster/asset_partition_range_end"), r.partition_key) for r in requests]
    keys = added.partition_keys
    assert ranges == [(keys[0], keys[1], None), (keys[2], keys[3], None), (None, None, keys[4])]
    assert [r.run_key for r in requests] == [f"{keys[0]}..{keys[1]}", f"{keys[2]}..{keys[3]}", keys[4]]
    assert upstream_releases_of(requests[1].tags, keys[3]) == ("2025-06-13T12:30:00+00:00",)
    assert upstream_releases_of(requests[2].tags, keys[4]) == ("2025-06-14T12:30:00+00:00",)
    assert requests[0].tags["dfc/dataset"] == table.key and requests[0].tags[f"dfc/dataset/{table.key}"] == "2025-06-10,2025-06-11"
