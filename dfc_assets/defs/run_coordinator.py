"""The run queue of every dfc instance: a QueuedRunCoordinator that tags each run of a dataset with the dataset.

Runs reach the queue from sensors, the UI, backfills and the CLI; each carries `dagster/partition`
(`{dataset}:{version}`) or a partition range, and this coordinator adds `dfc/dataset`, `dfc/shard` and
`dfc/dataset/{key}` (partitions.dataset_run_tags) before the run is queued, so the tag concurrency limits of
dagster.yaml apply whatever launched it. It runs in the webserver and the daemon: it reads the run and, for a
range, the shard's partition set in the instance; never the registry or the definitions.

`dfc/dataset` (one run per value) keeps two runs of one dataset apart, and two batches of one shard, but not a
batch and a run of one of its members (a retry, an operator's materialization), nor two UI backfill ranges that
share datasets. So each publishing run also gets `dfc/lane` (one run per value, docker/dagster.yaml): its own
`dfc/dataset`, unless a run of its shard not yet finished shares a dataset with it, whose lane it then joins and
waits for. One query of the shard's unfinished runs per submission. The queue only spares runs a wait: what
guarantees one publisher per dataset, for runs that never pass the queue too, is the dataset lease each step takes
(publication.dataset_lease).
"""

from __future__ import annotations

from dagster import DagsterRun, DagsterRunStatus, RunsFilter
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG

from dfc_assets.partitions import DATASET_TAG, DATASET_VERSIONS_TAG_PREFIX, SHARD_TAG, dataset_run_tags, partitions_name

PUBLISH_JOB_PREFIX = "publish__"
LANE_TAG = "dfc/lane"
UNFINISHED = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]


def run_partitions(run: DagsterRun, instance=None) -> list[str]:
    """The partitions a run is for: its `dagster/partition` tag, or its range in the shard's insertion order."""
    if run.tags.get(PARTITION_NAME_TAG):
        return [run.tags[PARTITION_NAME_TAG]]
    start, end = run.tags.get(ASSET_PARTITION_RANGE_START_TAG), run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not start or not end:
        return []
    if start == end:
        return [start]
    shard = run_shard(run)
    if instance is None or shard is None:
        return []
    keys = list(instance.get_dynamic_partitions(partitions_name(shard)))
    if start not in keys or end not in keys:
        return []
    return keys[keys.index(start): keys.index(end) + 1]  # empty when the range runs backwards


def run_shard(run: DagsterRun) -> str | None:
    """The shard of a run: the first part of its assets' keys (they are `[shard, step]`), else its job's name."""
    shards = {key.path[0] for key in run.asset_selection or ()} | {key.asset_key.path[0] for key in run.asset_check_selection or ()}
    shards.discard("catalog")
    if len(shards) == 1:
        return shards.pop()
    if run.job_name.startswith(PUBLISH_JOB_PREFIX):
        return run.job_name.removeprefix(PUBLISH_JOB_PREFIX)
    return None


def run_datasets(tags) -> set[str]:
    """The dataset keys a run publishes, from its `dfc/dataset/{key}` tags."""
    return {key.removeprefix(DATASET_VERSIONS_TAG_PREFIX) for key in tags if key.startswith(DATASET_VERSIONS_TAG_PREFIX)}


def lane(run: DagsterRun, tags, instance=None) -> str | None:
    """The run's `dfc/lane`: that of the newest unfinished run of its shard sharing a dataset with it, else its own
    `dfc/dataset`; None for a run of no dataset."""
    if not tags.get(DATASET_TAG):
        return None
    datasets, shard = run_datasets(tags), tags.get(SHARD_TAG)
    if instance is not None and shard and datasets:
        for other in instance.get_runs(RunsFilter(statuses=UNFINISHED, tags={SHARD_TAG: shard})):  # newest first
            if other.run_id != run.run_id and other.tags.get(LANE_TAG) and datasets & run_datasets(other.tags):
                return other.tags[LANE_TAG]
    return tags[DATASET_TAG]


def tags_to_add(run: DagsterRun, instance=None) -> dict[str, str]:
    wanted = dataset_run_tags(run_partitions(run, instance), run_shard(run))
    joined = lane(run, {**run.tags, **wanted}, instance)
    if joined is not None:
        wanted[LANE_TAG] = joined
    return {key: value for key, value in wanted.items() if run.tags.get(key) != value}


class DatasetTagsRunCoordinator(QueuedRunCoordinator):
    def submit_run(self, context: SubmitRunContext) -> DagsterRun:
        missing = tags_to_add(context.dagster_run, self._instance)
        if missing:
            self._instance.add_run_tags(context.dagster_run.run_id, missing)
            tagged = self._instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
            context = SubmitRunContext(tagged, context.workspace)
        return super().submit_run(context)
