"""Sensors and schedules: republish on upstream change, audits, catalog rebuilds.

In production (DFC_AUTOMATION=on) they start running; otherwise they load stopped and an
operator turns them on in the UI (Automation tab).
"""

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import httpx

from dfc_assets.defs.jobs import AUDIT_JOB, CATALOG_JOB, CHAIN_STEPS, publish_job_name
from dfc_assets.defs.registry_view import registered_datasets
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.defs.run_coordinator import run_partitions, run_shard
from dfc_assets.defs.sensor_state import SensorState, sensor_state
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dfc_assets.partitions import (
    dataset_run_tags, partition_key, partitions_name, partitions_per_run, shard_of, split_partition_key,
)
from dfc_assets.publication.raw import latest_source_sha256
from dfc_assets.registry import CubeListSnapshot, DatasetSpec, current_registry, read_cube_list, refresh_cube_list
from dfc_assets.sources import cadence
from dfc_assets.sources.change import ChangeCheck, KnownVersions, check_all

TIMEZONE = "America/Toronto"
UPSTREAM_RELEASES_TAG = "dfc/upstream_releases"
LOGGED_PER_TICK = 50  # a first tick over a collection finds thousands of versions


def automation_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if os.environ.get("DFC_AUTOMATION", "").lower() in ("1", "on", "true", "yes") else dg.DefaultSensorStatus.STOPPED


def schedule_status() -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if automation_status() == dg.DefaultSensorStatus.RUNNING else dg.DefaultScheduleStatus.STOPPED


def known_versions(instance: dg.DagsterInstance, shards: Sequence[str]) -> dict[str, list[str]]:
    """dataset key -> version keys already added as partitions: one read of the instance per shard."""
    versions: dict[str, list[str]] = defaultdict(list)
    for shard in shards:
        for key in instance.get_dynamic_partitions(partitions_name(shard)):
            dataset, version = split_partition_key(key)
            versions[dataset].append(version)
    return versions


@dataclass(frozen=True)
class NewVersion:
    spec: DatasetSpec
    version: str
    upstream_releases: tuple[str, ...]  # the release times (UTC, ISO 8601) the version covers, oldest first

    @property
    def partition_key(self) -> str:
        return partition_key(self.spec.key, self.version)


def upstream_releases_tag(new: Sequence[NewVersion]) -> str:
    """The upstream releases a run's versions cover: ``t1,t2`` for one version, a JSON object by partition for several."""
    if len(new) == 1:
        return ",".join(new[0].upstream_releases)
    return json.dumps({item.partition_key: list(item.upstream_releases) for item in new}, separators=(",", ":"))


def upstream_releases_of(tags, key: str) -> tuple[str, ...]:
    """The upstream releases of partition ``key`` from its run's tags (either form of upstream_releases_tag)."""
    text = tags.get(UPSTREAM_RELEASES_TAG, "")
    if text.startswith("{"):
        return tuple(json.loads(text).get(key, ()))
    return tuple(release for release in text.split(",") if release)


def run_request(batch: Sequence[NewVersion], trigger: str) -> dg.RunRequest:
    """One run of the shard's job over ``batch``: one partition, or the range of partitions added for it in this order."""
    shard = shard_of(batch[0].spec)
    keys = [item.partition_key for item in batch]
    tags = {**dataset_run_tags(keys, shard), "dfc/trigger": trigger, UPSTREAM_RELEASES_TAG: upstream_releases_tag(batch)}
    if len(keys) == 1:
        return dg.RunRequest(job_name=publish_job_name(shard), partition_key=keys[0], run_key=keys[0], tags=tags)
    return dg.RunRequest(
        job_name=publish_job_name(shard), run_key=f"{keys[0]}..{keys[-1]}",
        tags={**tags, ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]},
    )


def by_shard(new: Sequence[NewVersion]) -> dict[str, list[NewVersion]]:
    shards: dict[str, list[NewVersion]] = defaultdict(list)
    for item in new:
        shards[shard_of(item.spec)].append(item)
    return dict(sorted(shards.items()))


def run_requests(new: Sequence[NewVersion], trigger: str, per_run: int | None = None) -> list[dg.RunRequest]:
    """Runs of at most ``per_run`` partitions each (DFC_PARTITIONS_PER_RUN), in the order partition_requests adds them,
    so that each range covers exactly its batch; a single change stays a one-partition run."""
    per_run = per_run or partitions_per_run()
    return [run_request(items[start:start + per_run], trigger) for items in by_shard(new).values() for start in range(0, len(items), per_run)]


def partition_requests(new: Sequence[NewVersion]) -> list[dg.AddDynamicPartitionsRequest]:
    """One request per shard, whatever the number of new versions in it, its keys in the order of the runs' ranges."""
    return [dg.AddDynamicPartitionsRequest(partitions_name(shard), [item.partition_key for item in items]) for shard, items in by_shard(new).items()]


def _report(log, checks: Sequence[ChangeCheck], new: Sequence[NewVersion], waiting: int) -> str:
    failed = [c for c in checks if c.error]
    for check in failed[:LOGGED_PER_TICK]:
        log.warning(f"{check.dataset}: {check.error}")
    for item in new[:LOGGED_PER_TICK]:
        log.info(f"{item.spec.key}: new version {item.version} covering upstream releases {', '.join(item.upstream_releases)}")
    if max(len(failed), len(new)) > LOGGED_PER_TICK:
        log.info(f"... {len(new)} new versions and {len(failed)} failed checks in all (the first {LOGGED_PER_TICK} of each are logged)")
    lines = [f"{item.spec.key}: new version {item.version}" for item in new[:20]] + [f"{c.dataset}: FAILED {c.error}" for c in failed[:20]]
    return "; ".join([f"{len(checks)} sources: {len(new)} new versions, {waiting} waiting for their release cadence, {len(failed)} failed", *lines])


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def apply_cadence(checks: Sequence[ChangeCheck], by_key: dict[str, DatasetSpec], versions: dict[str, list[str]],
                  state: SensorState, now: datetime) -> tuple[list[NewVersion], int]:
    """New releases join their dataset's pending ones; each dataset whose window is open gets one version covering them all."""
    pending = state.pending
    for check in checks:
        if check.release is not None:
            pending.setdefault(check.dataset, []).append(check.release.to_dict())
    published = state.extra.setdefault("last_published_release", {})
    new, waiting = [], 0
    for key in sorted(pending):
        spec = by_key.get(key)
        if spec is None:  # no longer registered
            del pending[key]
            continue
        decision = cadence.decide(
            last_release=_moment(published.get(key)), pending=[cadence.Release.from_dict(item) for item in pending[key]],
            now=now, min_interval_days=cadence.version_interval_days(spec), taken_versions=versions.get(key, ()),
        )
        if isinstance(decision, cadence.PublishNow):
            times = tuple(release.to_dict()["released_at"] for release in decision.releases)
            new.append(NewVersion(spec, decision.version, times))
            published[key] = times[-1]
            del pending[key]
        elif isinstance(decision, cadence.WaitUntil):
            pending[key] = [release.to_dict() for release in decision.releases]
            waiting += 1
        else:
            del pending[key]
    return new, waiting


def refresh_snapshot_daily(store, settings, state: SensorState, now: datetime, log) -> CubeListSnapshot | None:
    """The cube-list snapshot collections expand from: taken again once per Eastern day (two WDS requests, one PUT)."""
    if not current_registry().collections:
        return None
    today = now.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d")
    if state.extra.get("cube_list_day") != today:
        with httpx.Client(timeout=60.0) as client:
            snapshot = refresh_cube_list(store, client, settings.wds_base_url)
        state.extra["cube_list_day"] = today
        log.info(f"cube-list snapshot refreshed: {len(snapshot.cubes)} WDS tables")
        return snapshot
    return read_cube_list(store)


def evaluate_sources(context: dg.SensorEvaluationContext, publisher: PublisherResource, shards: Sequence[str], trigger: str,
                     now: datetime | None = None) -> tuple[list[NewVersion], str]:
    """One tick: the state object read once, one partition read per shard, upstream asked for what changed, the state written once.

    The tick holds the state's lease from read to write: a tick of the other sensor waits, then sees what this one found."""
    now = now or datetime.now(timezone.utc)
    store, settings = publisher.store(), publisher.settings()
    with sensor_state(store, log=context.log.info) as state:
        snapshot = refresh_snapshot_daily(store, settings, state, now, context.log)
        specs = registered_datasets(store)
        by_key = {spec.key: spec for spec in specs}
        versions = known_versions(context.instance, shards)
        known = {
            spec.key: KnownVersions(
                tuple(versions.get(spec.key, ())),
                # only a dataset the state object has never seen costs a store read (its first tick, or a lost state)
                latest_source_sha256(store, spec) if spec.key not in state.sources and spec.key in versions and spec.source.kind != "statcan_table" else None,
            )
            for spec in specs
        }
        checks = check_all(specs, settings, states=state.sources, known=known, now=now, cube_list=snapshot, last_tick=_moment(state.extra.get("last_tick")))
        state.sources.update({check.dataset: check.state for check in checks})
        new, waiting = apply_cadence(checks, by_key, versions, state, now)
        state.extra["last_tick"] = now.isoformat(timespec="seconds")
    return new, _report(context.log, checks, new, waiting)


def _result(new: Sequence[NewVersion], report: str, trigger: str, cursor: str | None) -> dg.SensorResult:
    if not new:
        return dg.SensorResult(skip_reason=report, cursor=cursor)
    return dg.SensorResult(run_requests=run_requests(new, trigger), dynamic_partitions_requests=partition_requests(new), cursor=cursor)


def upstream_sensor(shards: Sequence[str], jobs: Sequence) -> dg.SensorDefinition:
    @dg.sensor(
        name="dfc_upstream_changes", jobs=list(jobs),
        minimum_interval_seconds=int(os.environ.get("DFC_SENSOR_INTERVAL_SECONDS", "300")),
        default_status=automation_status(),
        description="Checks every registry source (WDS changed-cube list, conditional GETs, sha256) and publishes each new upstream release as a new version, in the same tick. "
                    "State: state/sensor/sources.json in the object store.",
    )
    def dfc_upstream_changes(context: dg.SensorEvaluationContext, publisher: PublisherResource) -> dg.SensorResult:
        new, report = evaluate_sources(context, publisher, shards, "upstream_change")
        return _result(new, report, "upstream_change", None)

    return dfc_upstream_changes


def daily_source_check(shards: Sequence[str], jobs: Sequence) -> dg.SensorDefinition:
    """Once a day at DFC_SOURCE_CHECK_TIME (Eastern, default 09:00, after StatCan's 08:30 releases).

    A time-gated sensor rather than a ScheduleDefinition: a schedule targets one job, and the shards'
    chains are one job per shard (Dagster cannot build one job over differently partitioned assets).
    """
    hour, minute = (int(part) for part in os.environ.get("DFC_SOURCE_CHECK_TIME", "09:00").split(":"))

    @dg.sensor(
        name="dfc_daily_source_check", jobs=list(jobs), minimum_interval_seconds=600, default_status=automation_status(),
        description=f"Daily at {hour:02d}:{minute:02d} Eastern (DFC_SOURCE_CHECK_TIME): publish every new upstream release.",
    )
    def dfc_daily_source_check(context: dg.SensorEvaluationContext, publisher: PublisherResource) -> dg.SensorResult:
        now = datetime.now(ZoneInfo(TIMEZONE))
        today = now.strftime("%Y-%m-%d")
        if context.cursor == today or (now.hour, now.minute) < (hour, minute):
            return dg.SensorResult(skip_reason=f"next check at {hour:02d}:{minute:02d} Eastern", cursor=context.cursor)
        new, report = evaluate_sources(context, publisher, shards, "daily_source_check")
        return _result(new, report, "daily_source_check", today)

    return dfc_daily_source_check


def chain_end(run: dg.DagsterRun) -> dg.AssetKey | None:
    """The last asset of one shard's chain a publishing run materializes: ``[shard, stac_item]`` for a run of the
    shard's job or of the whole chain; for a run of part of it (an operator's raw and parquet), the last of those.

    None when the run is not one shard's chain: a catalog or audit run, assets of several shards, checks only."""
    shard = run_shard(run)
    if shard is None:
        return None
    selected = run.asset_selection
    if not selected:
        return dg.AssetKey([shard, CHAIN_STEPS[-1]]) if run.job_name == publish_job_name(shard) else None
    steps = {key.path[1] for key in selected if len(key.path) == 2 and key.path[0] == shard}
    if len(steps) != len(selected) or not steps <= set(CHAIN_STEPS):
        return None  # something besides the shard's chain (the catalog, another shard)
    return dg.AssetKey([shard, max(steps, key=CHAIN_STEPS.index)])


def unpublished_partitions(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    """The partitions of a failed multi-partition publishing run (the shard's job, or a UI materialization or backfill
    of the chain under any job) whose last asset in the run (stac_item for the whole chain) never materialized."""
    end = chain_end(run)
    keys = run_partitions(run, instance) if end is not None else []
    if len(keys) < 2:
        return []
    done = instance.get_materialized_partitions(end)
    return [key for key in keys if key not in done]


def retry_requests(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[dg.RunRequest]:
    """One single-partition run per unpublished version of a failed batch: its good versions publish, its bad one fails alone.

    Each runs the shard's publishing job over the failed run's assets (its whole chain unless an operator chose
    part of it); run key = partition key, so a version is retried once whichever runs of it failed."""
    keys = unpublished_partitions(instance, run)
    if not keys:
        return []
    shard = run_shard(run)
    selection = sorted(run.asset_selection, key=lambda key: CHAIN_STEPS.index(key.path[1])) if run.asset_selection else None
    return [
        dg.RunRequest(
            job_name=publish_job_name(shard), partition_key=key, run_key=key, asset_selection=selection,  # type: ignore[arg-type]
            tags={**dataset_run_tags(key, shard), "dfc/trigger": "retry_of_batch", "dfc/batch_run": run.run_id,
                  UPSTREAM_RELEASES_TAG: ",".join(upstream_releases_of(run.tags, key))},
        )
        for key in keys
    ]


def batch_retry_sensor(jobs: Sequence) -> dg.SensorDefinition:
    """Watches every run of the code location (monitored_jobs unset): the shards' jobs, and `__ASSET_JOB`, under which
    the UI runs materializations and backfills of a shard's assets; it retries only runs over several partitions of
    one shard's chain."""
    @dg.run_failure_sensor(
        name="dfc_retry_failed_batches", request_jobs=list(jobs), default_status=automation_status(),
        minimum_interval_seconds=30,
        description="When a run over several dataset versions fails (a sensor's batch, a UI backfill or materialization of a shard's assets), "
                    "republishes each of its versions not yet published in a run of its own "
                    "(once per version: run key = partition key), so one bad table never holds back the others of its batch.",
    )
    def dfc_retry_failed_batches(context: dg.RunFailureSensorContext):
        requests = retry_requests(context.instance, context.dagster_run)
        if not requests:
            return dg.SkipReason(f"run {context.dagster_run.run_id}: not a batch of one shard's chain, or every version of it is published")
        return requests

    return dfc_retry_failed_batches


def catalog_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "dfc_catalog_follows_items",
        target=dg.AssetSelection.groups("catalog"),
        default_status=automation_status(),
        minimum_interval_seconds=30,
        description="Rebuilds the catalog and the torrent feeds after any stac_item materializes (declarative automation).",
    )


def weekly_catalog_rebuild() -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="dfc_weekly_catalog_rebuild", job_name=CATALOG_JOB, cron_schedule="0 3 * * 0", execution_timezone=TIMEZONE,
        default_status=schedule_status(), description="Sundays 03:00 Eastern: rebuild the catalog and feeds from every published item.",
    )


def weekly_fixity_audit() -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="dfc_weekly_fixity_audit", job_name=AUDIT_JOB, cron_schedule="0 4 * * 6", execution_timezone=TIMEZONE,
        default_status=schedule_status(),
        description="Saturdays 04:00 Eastern: re-verify the latest version of every dataset (every web seed, every Zenodo file).",
    )
