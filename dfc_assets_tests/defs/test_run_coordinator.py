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
