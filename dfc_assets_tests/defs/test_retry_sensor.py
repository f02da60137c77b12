"""dfc_retry_failed_batches: a failed run over several versions of one shard's chain, whatever job it ran under (the
shard's job from a sensor, `__ASSET_JOB` from a UI backfill or materialization), gets one retry run per version not
yet published, once (run key = partition key); single-partition runs, catalog runs and mixed runs are left alone."""

from __future__ import annotations

import warnings

import dagster as dg
import pytest
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from dfc_assets.defs.automation import retry_requests
from dfc_assets.defs.jobs import CHAIN_STEPS
from dfc_assets.defs.shard_assets import CHAIN
from dfc_assets.partitions import partitions_name

SHARD = "statcan_boundary"
KEYS = ["fixture_provinces_territories:2016", "fixture_provinces_territories:2021", "fixture_provinces_territories:2022-02-09"]
RANGE = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}


def chain(*steps: str, shard: str = SHARD) -> set[dg.AssetKey]:
    return {dg.AssetKey([shard, step]) for step in (steps or CHAIN_STEPS)}


@pytest.fixture(scope="module")
def sensor():
    """The definitions of the packaged registry (another module of this worker may have left its own registry in
    `dfc_assets.definitions.defs`)."""
    from dfc_assets.definitions import build_definitions
    from dfc_assets.registry import REGISTRY_ENV

    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.delenv(REGISTRY_ENV, raising=False)
        warnings.simplefilter("ignore")
        defs = build_definitions()
        return defs.get_sensor_def("dfc_retry_failed_batches"), defs.get_repository_def()


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(partitions_name(SHARD), KEYS)
        yield instance


def failed_run(instance, job_name: str, tags: dict, selection: set[dg.AssetKey] | None) -> DagsterRun:
    run = DagsterRun(job_name=job_name, tags=tags, asset_selection=frozenset(selection) if selection else None, status=DagsterRunStatus.STARTED)
    instance.add_run(run)
    instance.report_run_failed(run)
    return instance.get_run_by_id(run.run_id)


def published(instance, step: str, key: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=dg.AssetKey([SHARD, step]), partition=key))


def test_the_chain_steps_are_the_shard_assets():
    assert tuple(name for name, *_ in CHAIN) == CHAIN_STEPS


def test_a_failed_ui_backfill_run_under_the_asset_job_is_retried_one_version_a_run(instance, sensor):
    """Through the sensor's own evaluation, as the daemon runs it: the first tick sets the cursor, the next sees the failure."""
    definition, repository = sensor
    first = definition.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repository))
    published(instance, "stac_item", KEYS[1])
    run = failed_run(instance, "__ASSET_JOB", {**RANGE, "dagster/backfill": "abcdefgh"}, chain())
    with partition_loading_context(dynamic_partitions_store=instance):
        tick = definition.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repository, cursor=first.cursor))
    requests = tick.run_requests
    assert [(r.job_name, r.partition_key, r.run_key) for r in requests] == [(f"publish__{SHARD}", key, key) for key in (KEYS[0], KEYS[2])]
    assert all(list(r.asset_selection) == [dg.AssetKey([SHARD, step]) for step in CHAIN_STEPS] for r in requests)
    assert all(r.tags["dfc/batch_run"] == run.run_id and r.tags["dfc/trigger"] == "retry_of_batch" for r in requests)
    assert [r.tags["dfc/dataset"] for r in requests] == ["fixture_provinces_territories"] * 2


def test_a_failed_run_of_part_of_the_chain_is_retried_as_that_part(instance):
    published(instance, "parquet", KEYS[0])
    published(instance, "stac_item", KEYS[1])  # further than the run went: not what this run was to do
    run = failed_run(instance, "__ASSET_JOB", RANGE, chain("raw", "parquet"))
    requests = retry_requests(instance, run)
    assert [r.partition_key for r in requests] == KEYS[1:]
    assert all(list(r.asset_selection) == [dg.AssetKey([SHARD, "raw"]), dg.AssetKey([SHARD, "parquet"])] for r in requests)


def test_a_failed_run_of_the_shard_job_is_retried_as_before(instance):
    published(instance, "stac_item", KEYS[0])
    run = failed_run(instance, f"publish__{SHARD}", RANGE, None)
    assert [(r.job_name, r.partition_key, r.asset_selection) for r in retry_requests(instance, run)] == [
        (f"publish__{SHARD}", key, None) for key in KEYS[1:]]


@pytest.mark.parametrize("job_name, tags, selection", [
    ("__ASSET_JOB", {"dagster/partition": KEYS[0]}, chain()),  # one partition: its own error is the run's
    ("__ASSET_JOB", {**RANGE, "dagster/asset_partition_range_end": KEYS[0]}, chain()),  # a range of one
    ("build_catalog", {}, None),
    ("__ASSET_JOB", {}, {dg.AssetKey(["catalog", "stac_geoparquet"]), dg.AssetKey(["catalog", "torrent_feed"])}),
    ("__ASSET_JOB", RANGE, chain() | {dg.AssetKey(["catalog", "stac_geoparquet"])}),  # not only the shard's chain
    ("__ASSET_JOB", RANGE, chain() | chain(shard="http_file")),  # two shards
], ids=["one-partition", "range-of-one", "catalog-job", "catalog-assets", "chain-and-catalog", "two-shards"])
def test_runs_that_are_not_a_batch_of_one_shard_chain_are_not_retried(instance, job_name, tags, selection):
    assert retry_requests(instance, failed_run(instance, job_name, tags, selection)) == []
