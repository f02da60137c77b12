"""Issue 11: a collection of 200 synthetic WDS tables published end to end through the real daemon.

`dagster dev` (webserver, daemon, code server) on the embedded default, with a statcan_tables collection
of the sample-source server's 200 synthetic tables. No manual action: the sensor takes the cube-list
snapshot, adds 200 partitions and requests runs of up to DFC_PARTITIONS_PER_RUN (25) partitions each in one
tick (200 tables over 18 subject shards: 18 runs); each table gets its own concept DOI and torrent, its DOI
on its own partition; the catalog follows once. Then 3 tables release upstream: exactly 3 new versions,
nothing else republished. `DFC_E2E_COLLECTION_TABLES` lowers the count for a quick look.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from dfc_assets.cli.embedded import prepare_dagster_home
from dfc_assets.partitions import DATASET_VERSIONS_TAG_PREFIX, partitions_per_run, statcan_table_shard
from dfc_assets.registry import statcan_table_id, statcan_table_key
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.services.synthetic_wds import publish_synthetic_release, synthetic_product_ids
from dfc_assets.storage import CATALOG, VersionKeys
from dfc_assets_tests.e2e.topology_graphql import DagsterGraphQL
from dfc_assets_tests.e2e.topology_processes import ManagedProcess, free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(3600)]
TABLES = int(os.environ.get("DFC_E2E_COLLECTION_TABLES", "200"))  # the 200
CHANGED = 3
RUNS = "{ runsOrError(limit: 1000) { __typename ... on Runs { results { runId status tags { key value } } } } }"
MATERIALIZATIONS = """query($path: [String!]!, $partitions: [String!]) { assetOrError(assetKey: {path: $path}) { __typename
  ... on Asset { assetMaterializations(partitions: $partitions) { partition runId
    metadataEntries { label ... on TextMetadataEntry { text } ... on UrlMetadataEntry { url } } } } } }"""


def versions(store: Path, product_id: str) -> list[str]:
    folder = store / "releases" / statcan_table_id(product_id)
    return sorted(v.name for v in folder.iterdir() if (store / VersionKeys(statcan_table_id(product_id), v.name).stac_item).exists()) if folder.is_dir() else []


def catalog_rows(store: Path) -> set[tuple[str, str]]:
    if not (store / CATALOG).exists():
        return set()
    table = pq.read_table(store / CATALOG, columns=["collection", "version"])
    return set(zip(table.column("collection").to_pylist(), table.column("version").to_pylist()))


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("collection")
    saved = os.environ.get("DFC_SAMPLE_WDS_TABLES")
    os.environ["DFC_SAMPLE_WDS_TABLES"] = str(TABLES)  # read by the first start of the sample sources
    try:
        services = LocalServices(workdir)
        urls = services.__enter__()
    finally:
        os.environ.pop("DFC_SAMPLE_WDS_TABLES") if saved is None else os.environ.update(DFC_SAMPLE_WDS_TABLES=saved)
    try:
        sources = Path(urls.sources_root)
        product_ids = synthetic_product_ids(sources, include_archived=True)
        assert len(product_ids) == TABLES
        registry = workdir / "registry.yaml"
        registry.write_text(
            "collections:\n  - key: synthetic_tables\n    kind: statcan_tables\n    producer: Statistics Canada\n"
            "    license: OGL-Canada-2.0\n"
            f"    filters: {{include_archived: true, product_ids: [{', '.join(repr(pid) for pid in product_ids)}]}}\n", encoding="utf-8")
        port = free_port()
        env = dict(os.environ, DFC_SERVICES_FILE=str(workdir / SERVICES_FILE), DAGSTER_HOME=str(prepare_dagster_home(workdir)),
                   DFC_REGISTRY=str(registry), DFC_CACHE_DIR=str(workdir / "cache"), DFC_AUTOMATION="on",
                   DFC_SENSOR_INTERVAL_SECONDS="5", DFC_RUN_EXECUTOR="in_process")
        workspace = Path(__file__).resolve().parents[2] / "workspace.yaml"
        process = ManagedProcess("dagster-dev", [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(workspace),
                                                 "-h", "127.0.0.1", "-p", str(port)], env=env, log_dir=workdir)
        api = DagsterGraphQL(f"http://127.0.0.1:{port}")
        try:
            wait_until(lambda: api.location_status() == "LOADED", timeout=300, what="the code location to load", processes=[process])
            yield Path(urls.store_root), sources, product_ids, api, process
        finally:
            api.close()
            process.stop()
    finally:
        services.__exit__(None, None, None)


def publish_runs(api: DagsterGraphQL) -> list[dict]:
    runs = api.query(RUNS)["runsOrError"]["results"]
    return [{"runId": run["runId"], "status": run["status"], **{t["key"]: t["value"] for t in run["tags"]}}
            for run in runs if any(t["key"] == "dfc/dataset" for t in run["tags"])]


def datasets_of(run: dict) -> dict[str, str]:
    """dataset key -> versions of a publishing run (its dfc/dataset/{key} tags)."""
    return {key.removeprefix(DATASET_VERSIONS_TAG_PREFIX): value for key, value in run.items() if key.startswith(DATASET_VERSIONS_TAG_PREFIX)}


def doi_on_partition(api: DagsterGraphQL, product_id: str, version: str) -> dict[str, str]:
    """The metadata of a table version's zenodo_record materialization, found by searching its partition."""
    key = f"{statcan_table_key(product_id)}:{version}"
    asset = api.query(MATERIALIZATIONS, path=[statcan_table_shard(product_id), "zenodo_record"], partitions=[key])["assetOrError"]
    found = [m for m in asset["assetMaterializations"] if m["partition"] == key]
    assert found, f"no zenodo_record materialization on partition {key}"
    return {entry["label"]: entry.get("text") or entry.get("url") for entry in found[0]["metadataEntries"]}


def test_every_table_of_the_collection_is_published_with_its_own_doi_and_torrent(collection):
    store, _, product_ids, api, process = collection
    wait_until(lambda: all(versions(store, pid) for pid in product_ids), timeout=3000, interval=5,
               what=f"all {TABLES} tables published by the sensor", processes=[process])
    records = [json.loads((store / VersionKeys(statcan_table_id(pid), versions(store, pid)[0]).zenodo_record).read_text()) for pid in product_ids]
    assert len({record["concept_doi"] for record in records}) == TABLES
    assert all((store / VersionKeys(statcan_table_id(pid), versions(store, pid)[0]).torrent).exists() for pid in product_ids)
    wait_until(lambda: {statcan_table_id(pid) for pid in product_ids} <= {c for c, _ in catalog_rows(store)}, timeout=900, interval=5,
               what="one catalog with every table", processes=[process])
    wait_until(lambda: all(run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in publish_runs(api)), timeout=600, interval=5,
               what="the runs to finish", processes=[process])  # a run stays STARTED a moment after its last STAC item
    runs = publish_runs(api)
    # whichever of the two source sensors ticks first publishes them (the daily check fires after 09:00 Eastern)
    sensor_runs = [run for run in runs if run["dfc/trigger"] in ("upstream_change", "daily_source_check")]
    per_shard = Counter(statcan_table_shard(pid) for pid in product_ids)
    assert len(sensor_runs) == sum(-(-count // partitions_per_run()) for count in per_shard.values()) < TABLES  # 200 tables: 18 runs
    succeeded = [run for run in runs if run["status"] == "SUCCESS"]
    covered = [dataset for run in succeeded for dataset in datasets_of(run)]
    assert sorted(covered) == sorted(statcan_table_key(pid) for pid in product_ids)  # every table in exactly one successful run
    assert len(succeeded) < TABLES
    # A batch run that failed (on a loaded machine: its launch timed out) is completed by dfc_retry_failed_batches,
    # one run per version it had not published; nothing else may fail.
    retried = {dataset for run in succeeded if run["dfc/trigger"] == "retry_of_batch" for dataset in datasets_of(run)}
    assert all(run["status"] == "SUCCESS" or set(datasets_of(run)) <= retried for run in runs)
    for pid, record in zip(product_ids[::max(1, TABLES // 10)], records[::max(1, TABLES // 10)]):
        metadata = doi_on_partition(api, pid, versions(store, pid)[0])
        assert metadata["dataset"] == statcan_table_key(pid) and metadata["doi"].endswith(record["doi"])


def test_three_tables_change_upstream_and_exactly_three_versions_follow(collection):
    store, sources, product_ids, api, process = collection
    before = {pid: versions(store, pid) for pid in product_ids}
    runs_before = {run["runId"] for run in publish_runs(api)}
    changed = product_ids[:CHANGED]
    now = datetime.now(timezone.utc)
    today_eastern = now.astimezone(ZoneInfo("America/Toronto")).replace(hour=0, minute=0, second=0, microsecond=0)
    released = max(now - timedelta(minutes=5), today_eastern + timedelta(seconds=1))  # today, Eastern: in today's getChangedCubeList
    publish_synthetic_release(sources, changed, released)
    wait_until(lambda: all(len(versions(store, pid)) == 2 for pid in changed), timeout=1800, interval=5,
               what=f"new versions of {changed}", processes=[process])
    wait_until(lambda: all(run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in publish_runs(api)), timeout=600, interval=5,
               what="the runs to finish", processes=[process])
    time.sleep(30)  # several more sensor ticks: nothing else may be republished
    after = {pid: versions(store, pid) for pid in product_ids}
    assert {pid for pid in product_ids if after[pid] != before[pid]} == set(changed)
    release_day = released.astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m-%d")
    assert all(len(after[pid]) == 2 and release_day in after[pid] for pid in changed)
    new_runs = [run for run in publish_runs(api) if run["runId"] not in runs_before]
    assert all(run["status"] == "SUCCESS" for run in new_runs)
    assert sorted(dataset for run in new_runs for dataset in datasets_of(run)) == sorted(statcan_table_key(pid) for pid in changed)
    assert all(datasets_of(run) == {statcan_table_key(pid): release_day for pid in changed if statcan_table_key(pid) in datasets_of(run)} for run in new_runs)
    for pid in changed:
        assert doi_on_partition(api, pid, release_day)["version"] == release_day
    wait_until(lambda: {(statcan_table_id(pid), after[pid][-1]) for pid in changed} <= catalog_rows(store), timeout=900, interval=5,
               what="the catalog rows of the 3 new versions", processes=[process])
