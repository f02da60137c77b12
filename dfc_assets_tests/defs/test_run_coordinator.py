"""The run coordinator tags every run of a dataset with dfc/dataset and dfc/shard before the run is queued."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.run_coordinator import SubmitRunContext
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from dfc_assets.cli.embedded import remote_origin
from dfc_assets.defs.run_coordinator import DatasetTagsRunCoordinator

COORDINATOR = {"module": "dfc_assets.defs.run_coordinator", "class": "DatasetTagsRunCoordinator"}


@pytest.fixture
def instance():
    with dg.instance_for_test(overrides={"run_coordinator": COORDINATOR}) as instance:
        assert isinstance(instance.run_coordinator, DatasetTagsRunCoordinator)
        yield instance


def submitted(instance, job_name: str, tags: dict, asset_selection=None) -> dict[str, str]:
    run = DagsterRun(job_name=job_name, tags=tags, asset_selection=asset_selection, status=DagsterRunStatus.NOT_STARTED,
                     remote_job_origin=remote_origin(job_name))
    instance.add_run(run)
    queued = instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))
    assert queued.status == DagsterRunStatus.QUEUED
    stored = instance.get_run_by_id(run.run_id)
    return dict(stored.tags)


def test_a_ui_launched_run_of_a_shard_job_gets_the_dataset_tags(instance):
    tags = submitted(instance, "publish__statcan_table_33", {"dagster/partition": "statcan_table_33100036:2025-06-11"})
    assert tags["dfc/dataset"] == "statcan_table_33100036" and tags["dfc/shard"] == "statcan_table_33"


def test_a_backfill_run_takes_the_shard_from_its_assets(instance):
    selection = {dg.AssetKey(["statcan_boundary", name]) for name in ("raw", "parquet")}
    tags = submitted(instance, "__ASSET_JOB", {"dagster/partition": "fixture_provinces_territories:2016", "dagster/backfill": "abc"}, selection)
    assert tags["dfc/dataset"] == "fixture_provinces_territories" and tags["dfc/shard"] == "statcan_boundary"


def test_a_one_partition_range_counts_as_that_partition(instance):
    key = "fixture_provinces_territories:2011"
    tags = submitted(instance, "publish__statcan_boundary", {"dagster/asset_partition_range_start": key, "dagster/asset_partition_range_end": key})
    assert tags["dfc/dataset"] == "fixture_provinces_territories"


@pytest.mark.parametrize("tags", [{}, {"dagster/partition": "2025-06-11"}, {"dagster/partition": "a:b\n"}])
def test_runs_that_are_not_one_dataset_version_are_left_alone(instance, tags):
    assert "dfc/dataset" not in submitted(instance, "build_catalog", tags)


def test_a_wrong_dataset_tag_is_corrected_from_the_partition(instance):
    tags = submitted(instance, "publish__statcan_table_33", {"dagster/partition": "statcan_table_33100036:2025-06-11", "dfc/dataset": "other"})
    assert tags["dfc/dataset"] == "statcan_table_33100036"


def test_a_range_over_several_datasets_is_a_batch_with_a_tag_per_dataset(instance):
    keys = ["statcan_table_33100036:2025-06-11", "statcan_table_33100037:2025-06-11", "statcan_table_33100036:2025-07-02"]
    instance.add_dynamic_partitions("dfc__statcan_table_33__versions", ["statcan_table_33100099:2025-01-01", *keys, "statcan_table_33100098:2025-01-01"])
    tags = submitted(instance, "publish__statcan_table_33", {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]})
    assert tags["dfc/dataset"] == "batch:statcan_table_33" and tags["dfc/shard"] == "statcan_table_33"
    assert {k: v for k, v in tags.items() if k.startswith("dfc/dataset/")} == {
        "dfc/dataset/statcan_table_33100036": "2025-06-11,2025-07-02", "dfc/dataset/statcan_table_33100037": "2025-06-11"}


SHARD33 = "dfc__statcan_table_33__versions"
A, B, C = "statcan_table_33100036:2025-06-11", "statcan_table_33100037:2025-06-11", "statcan_table_33100038:2025-06-11"


def queue_limits() -> list[dict]:
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).parents[2] / "docker" / "dagster.yaml").read_text(encoding="utf-8"))
    return config["concurrency"]["runs"]["tag_concurrency_limits"]


def stored(instance, run_id: str) -> DagsterRun:
    return instance.get_run_by_id(run_id)


def submit(instance, job_name: str, tags: dict, asset_selection=None) -> DagsterRun:
    run = DagsterRun(job_name=job_name, tags=tags, asset_selection=asset_selection, status=DagsterRunStatus.NOT_STARTED,
                     remote_job_origin=remote_origin(job_name))
    instance.add_run(run)
    instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))
    return stored(instance, run.run_id)


def test_a_run_of_a_member_of_an_unfinished_batch_joins_its_lane_and_the_queue_holds_it(instance):
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    instance.add_dynamic_partitions(SHARD33, [A, B, C])
    batch = submit(instance, "publish__statcan_table_33", {"dagster/asset_partition_range_start": A, "dagster/asset_partition_range_end": B})
    retry = submit(instance, "publish__statcan_table_33", {"dagster/partition": B})
    ui = submit(instance, "__ASSET_JOB", {"dagster/partition": C}, {dg.AssetKey(["statcan_table_33", "raw"])})
    assert batch.tags["dfc/lane"] == "batch:statcan_table_33" and retry.tags["dfc/lane"] == "batch:statcan_table_33"
    assert retry.tags["dfc/dataset"] == "statcan_table_33100037"  # the operators' tag is unchanged
    assert ui.tags["dfc/lane"] == "statcan_table_33100038"  # no dataset in common: a lane of its own
    running = TagConcurrencyLimitsCounter(queue_limits(), [batch])  # what the queue daemon checks before it launches a run
    assert running.is_blocked(retry) and not running.is_blocked(ui)


def test_a_batch_over_a_dataset_being_published_joins_that_lane_and_a_finished_run_holds_no_one(instance):
    later = "statcan_table_33100037:2025-07-02"
    instance.add_dynamic_partitions(SHARD33, [A, B, later, C])
    backfill = submit(instance, "__ASSET_JOB", {"dagster/asset_partition_range_start": B, "dagster/asset_partition_range_end": later},
                      {dg.AssetKey(["statcan_table_33", "raw"])})  # an operator's backfill of two versions of one table
    batch = submit(instance, "publish__statcan_table_33", {"dagster/asset_partition_range_start": A, "dagster/asset_partition_range_end": B})
    assert backfill.tags["dfc/lane"] == backfill.tags["dfc/dataset"] == "statcan_table_33100037"
    assert batch.tags["dfc/dataset"] == "batch:statcan_table_33" and batch.tags["dfc/lane"] == "statcan_table_33100037"
    instance.report_run_failed(backfill)
    instance.report_run_failed(batch)
    again = submit(instance, "publish__statcan_table_33", {"dagster/asset_partition_range_start": A, "dagster/asset_partition_range_end": B})
    assert again.tags["dfc/lane"] == "batch:statcan_table_33"
