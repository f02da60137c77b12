"""The run queue of every dfc instance: a QueuedRunCoordinator that tags each run of a dataset with the dataset.

Runs reach the queue from sensors, the UI, backfills and the CLI; each carries `dagster/partition`
(`{dataset}:{version}`) or a partition range, and this coordinator adds `dfc/dataset`, `dfc/shard` and
`dfc/dataset/{key}` (partitions.dataset_run_tags) before the run is queued, so the tag concurrency limits of
dagster.yaml apply whatever launched it. It runs in the webserver and the daemon: it reads the run and, for a
range, the shard's partition set in the instance; never the registry or the definitions.
"""

from __future__ import annotations

from dagster import DagsterRun
from dagster._core.run_coordinator import QueuedRunCoordinator, SubmitRunContext
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG

from dfc_assets.partitions import dataset_run_tags, partitions_name

PUBLISH_JOB_PREFIX = "publish__"


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


def tags_to_add(run: DagsterRun, instance=None) -> dict[str, str]:
    wanted = dataset_run_tags(run_partitions(run, instance), run_shard(run))
    return {key: value for key, value in wanted.items() if run.tags.get(key) != value}


class DatasetTagsRunCoordinator(QueuedRunCoordinator):
    def submit_run(self, context: SubmitRunContext) -> DagsterRun:
        missing = tags_to_add(context.dagster_run, self._instance)
        if missing:
            self._instance.add_run_tags(context.dagster_run.run_id, missing)
            tagged = self._instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
            context = SubmitRunContext(tagged, context.workspace)
        return super().submit_run(context)
