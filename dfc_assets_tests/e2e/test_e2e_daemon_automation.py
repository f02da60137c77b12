"""Issue 7 with the real daemon: `dagster dev` (webserver, daemon, code server) on the embedded default.

No manual action: the upstream sensor publishes what upstream serves; an unchanged source and new
validators over the same bytes make no run; a changed source becomes a new version with a DOI, a
torrent and a catalog row (the catalog follows by declarative automation).
"""

from __future__ import annotations

import json
import os
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from dfc_assets.cli.embedded import prepare_dagster_home
from dfc_assets.partitions import partition_key, shard_of
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.services.sample_sources import BOUNDARY_PATH, install_statcan_table, sample_table_dir
from dfc_assets.storage import CATALOG, VersionKeys
from dfc_assets_tests.e2e.topology_graphql import TERMINAL_RUN_STATUSES, DagsterGraphQL
from dfc_assets_tests.e2e.topology_processes import ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.e2e
SPECS = {spec.key: spec for spec in load_registry()}
TABLE, BOUNDARY = SPECS["statcan_table_33100036"], SPECS["fixture_provinces_territories"]
RUNS = "{ runsOrError(limit: 200) { __typename ... on Runs { results { runId status tags { key value } } } } }"


def published(root: Path, spec, version: str) -> bool:
    return (root / VersionKeys(spec.id, version).stac_item).exists()


def catalog_versions(root: Path) -> set[tuple[str, str]]:
    path = root / CATALOG
    if not path.exists():
        return set()
    table = pq.read_table(path, columns=["collection", "version"])
    return set(zip(table.column("collection").to_pylist(), table.column("version").to_pylist()))


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("daemon")
    with LocalServices(workdir) as urls:
        port = free_port()
        env = dict(os.environ, DFC_SERVICES_FILE=str(workdir / SERVICES_FILE), DAGSTER_HOME=str(prepare_dagster_home(workdir)),
                   DFC_AUTOMATION="on", DFC_SENSOR_INTERVAL_SECONDS="5", DFC_RUN_EXECUTOR="in_process")
        workspace = Path(__file__).resolve().parents[2] / "workspace.yaml"  # location name dfc_assets
        command = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]
        process = ManagedProcess("dagster-dev", command, env=env, log_dir=workdir)
        api = DagsterGraphQL(f"http://127.0.0.1:{port}")
        try:
            wait_until(lambda: api.location_status() == "LOADED", timeout=300, what="the code location to load", processes=[process])
            yield Path(urls.store_root), Path(urls.sources_root), api, process, Path(env["DAGSTER_HOME"])
        finally:
            api.close()
            process.stop()


def runs(api: DagsterGraphQL) -> list[dict]:
    return api.query(RUNS)["runsOrError"]["results"]


def publish_runs(api: DagsterGraphQL) -> list[dict]:
    return [run for run in runs(api) if any(tag["key"] == "dfc/trigger" for tag in run["tags"])]


def test_the_sensor_publishes_what_upstream_serves_with_no_manual_action(dagster_dev):
    store, _, api, process, _ = dagster_dev
    wait_until(lambda: published(store, TABLE, "2025-06-11") and published(store, BOUNDARY, "2022-02-09"),
               timeout=420, what="both datasets published by the sensor", processes=[process], interval=2)
    wait_until(lambda: {(TABLE.id, "2025-06-11"), (BOUNDARY.id, "2022-02-09")} <= catalog_versions(store),
               timeout=240, what="the catalog to follow by declarative automation", processes=[process], interval=2)
    # the sensor's other runs (the prebuilt dataset) may still be under way
    wait_until(lambda: all(run["status"] in TERMINAL_RUN_STATUSES for run in publish_runs(api)), timeout=240,
               what="the sensor's runs to finish", processes=[process], interval=2)
    assert all(run["status"] == "SUCCESS" for run in publish_runs(api))
    for run in publish_runs(api):
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert tags["dagster/partition"] == f"{tags['dfc/dataset']}:{tags['dagster/partition'].split(':')[1]}"
        assert tags["dfc/upstream_releases"] and tags["dfc/shard"] in {shard_of(spec) for spec in load_registry()}


def test_unchanged_sources_and_new_validators_over_the_same_bytes_make_no_run(dagster_dev):
    store, sources, api, process, _ = dagster_dev
    wait_until(lambda: all(run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in runs(api)), timeout=240,
               what="earlier runs to finish", processes=[process], interval=2)
    before = {run["runId"] for run in publish_runs(api)}
    later = time.time() + 7 * 86400
    os.utime(sources / BOUNDARY_PATH, (later, later))  # new ETag and Last-Modified, same bytes
    time.sleep(25)  # several sensor ticks at 5 s
    assert {run["runId"] for run in publish_runs(api)} == before
    assert sorted(p.name for p in (store / "releases" / BOUNDARY.id).iterdir()) == ["2022-02-09"]


def test_a_changed_source_becomes_a_new_published_version(dagster_dev, tmp_path):
    store, sources, api, process, _ = dagster_dev
    today = datetime.now(ZoneInfo("America/Toronto")).strftime("%Y-%m-%d")
    changed = tmp_path / "33100036-eng.zip"
    with zipfile.ZipFile(sample_table_dir() / "33100036-eng.zip") as source, zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "33100036.csv":
                data += data.splitlines(keepends=True)[-1].replace(b"2025-06-09", today.encode())
            target.writestr(info, data)
    metadata = json.loads((sample_table_dir() / "33100036.json").read_text())
    install_statcan_table(sources, metadata={**metadata, "releaseTime": f"{today}T08:30"}, csv_zip=changed)
    wait_until(lambda: published(store, TABLE, today), timeout=420, what=f"version {today} published by the sensor", processes=[process], interval=2)
    record = json.loads((store / VersionKeys(TABLE.id, today).zenodo_record).read_text())
    first = json.loads((store / VersionKeys(TABLE.id, "2025-06-11").zenodo_record).read_text())
    assert record["concept_doi"] == first["concept_doi"] and record["doi"] != first["doi"]
    assert (store / VersionKeys(TABLE.id, today).torrent).exists()
    wait_until(lambda: (TABLE.id, today) in catalog_versions(store), timeout=240, what="the new version's catalog row", processes=[process], interval=2)
    keys = {run["runId"]: {t["key"]: t["value"] for t in run["tags"]} for run in publish_runs(api)}
    assert any(tags.get("dagster/run_key") == f"{TABLE.key}:{today}" and tags.get("dagster/partition") == f"{TABLE.key}:{today}" for tags in keys.values())


def test_a_backfill_of_two_old_versions_through_the_daemon(dagster_dev, capsys):
    store, _, api, process, home = dagster_dev
    from dfc_assets.catalog.geoparquet import read_catalog
    from dfc_assets.cli.main import main
    from dfc_assets.storage import processed_pointer

    assert main(["backfill", BOUNDARY.key, "2016", "2011", "--webserver", api.base_url, "--wait"]) == 0
    assert "COMPLETED_SUCCESS" in capsys.readouterr().out
    assert published(store, BOUNDARY, "2016") and published(store, BOUNDARY, "2011")
    assert json.loads((store / processed_pointer(BOUNDARY.id)).read_text())["version"] == "2022-02-09"
    wait_until(lambda: {(BOUNDARY.id, v) for v in ("2011", "2016")} <= catalog_versions(store), timeout=240,
               what="the catalog to follow the backfill", processes=[process], interval=2)
    items = {i["properties"]["version"]: i for i in read_catalog(store / CATALOG) if i["collection"] == BOUNDARY.id}
    rels = {v: {link["rel"]: link["href"] for link in item["links"]} for v, item in items.items()}
    assert items["2016"]["id"] in rels["2011"]["successor-version"] and items["2022-02-09"]["id"] in rels["2016"]["successor-version"]
    assert items["2011"]["id"] in rels["2016"]["predecessor-version"] and "successor-version" not in rels["2022-02-09"]
    backfilled = {partition_key(BOUNDARY.key, v) for v in ("2016", "2011")}
    backfill_runs = [tags for tags in ({t["key"]: t["value"] for t in run["tags"]} for run in runs(api)) if "dagster/backfill" in tags]
    assert len(backfill_runs) == 1  # BackfillPolicy.multi_run: both versions in one run, a range of two partitions
    (tags,) = backfill_runs
    assert {tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]} == backfilled
    assert tags["dfc/dataset"] == BOUNDARY.key and tags["dfc/shard"] == shard_of(BOUNDARY) and set(tags[f"dfc/dataset/{BOUNDARY.key}"].split(",")) == {"2016", "2011"}
    assert checks_on(home, backfilled) == {(check, key): "SUCCEEDED" for check in CHECK_NAMES for key in backfilled}  # each on its partition


CHECK_NAMES = ("artifact_matches_manifest", "zenodo_file_matches_artifact", "web_seeds_serve_the_torrent")


def checks_on(home: Path, partitions: set[str]) -> dict[tuple[str, str], str]:
    """The stored status of each blocking check of the boundary chain, per partition (what the UI shows per version)."""
    import dagster as dg

    from dfc_assets.defs.shard_checks import CHECKS

    found = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for asset, name, _, _ in CHECKS:
            if name not in CHECK_NAMES:
                continue
            key = dg.AssetCheckKey(dg.AssetKey([shard_of(BOUNDARY), asset]), name)
            for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=100):
                if record.partition in partitions:
                    found[(name, record.partition)] = record.status.value
    return found
