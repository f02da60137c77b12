"""Sensors and schedules: republish on upstream change, audits, catalog rebuilds.

In production (DFC_AUTOMATION=on) they start running; otherwise they load stopped and an
operator turns them on in the UI (Automation tab).
"""

import json
import os
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from dfc_assets.defs.jobs import AUDIT_JOB, CATALOG_JOB, publish_job_name
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.publication.raw import latest_source_sha256
from dfc_assets.registry import DatasetSpec
from dfc_assets.sources.change import ChangeCheck, KnownVersions, SourceState, check_all

TIMEZONE = "America/Toronto"


def automation_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if os.environ.get("DFC_AUTOMATION", "").lower() in ("1", "on", "true", "yes") else dg.DefaultSensorStatus.STOPPED


def schedule_status() -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if automation_status() == dg.DefaultSensorStatus.RUNNING else dg.DefaultScheduleStatus.STOPPED


def _known(instance: dg.DagsterInstance, store, specs: Sequence[DatasetSpec]) -> dict[str, KnownVersions]:
    return {
        spec.key: KnownVersions(tuple(instance.get_dynamic_partitions(spec.partitions_name)), latest_source_sha256(store, spec))
        for spec in specs
    }


def _run_request(spec: DatasetSpec, version: str, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(job_name=publish_job_name(spec), partition_key=version, run_key=f"{spec.key}:{version}",
                         tags={"dfc/dataset": spec.key, "dfc/trigger": trigger})


def _report(log, checks: Sequence[ChangeCheck]) -> str:
    lines = []
    for check in checks:
        if check.error:
            log.warning(f"{check.dataset}: {check.error}")
            lines.append(f"{check.dataset}: FAILED {check.error}")
        elif check.new_version:
            log.info(f"{check.dataset}: new version {check.new_version} ({check.note})")
            lines.append(f"{check.dataset}: new version {check.new_version}")
        else:
            lines.append(f"{check.dataset}: {check.note}")
    return "; ".join(lines)


def _evaluate(context: dg.SensorEvaluationContext, publisher: PublisherResource, specs: Sequence[DatasetSpec],
              states: dict[str, SourceState], trigger: str) -> tuple[dg.SensorResult | None, list[ChangeCheck], str]:
    by_key = {spec.key: spec for spec in specs}
    checks = check_all(specs, publisher.settings(), states=states, known=_known(context.instance, publisher.store(), specs))
    report = _report(context.log, checks)
    new = [(by_key[c.dataset], c.new_version) for c in checks if c.new_version]
    if not new:
        return None, checks, report
    return dg.SensorResult(
        run_requests=[_run_request(spec, version, trigger) for spec, version in new],
        dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest(spec.partitions_name, [version]) for spec, version in new],
    ), checks, report


def upstream_sensor(specs: Sequence[DatasetSpec], jobs: Sequence) -> dg.SensorDefinition:
    @dg.sensor(
        name="dfc_upstream_changes", jobs=list(jobs),
        minimum_interval_seconds=int(os.environ.get("DFC_SENSOR_INTERVAL_SECONDS", "300")),
        default_status=automation_status(),
        description="Checks every registry source (WDS changed-cube list, conditional GETs, sha256) and publishes each new upstream release as a new version, in the same tick.",
    )
    def dfc_upstream_changes(context: dg.SensorEvaluationContext, publisher: PublisherResource) -> dg.SensorResult:
        states = {key: SourceState.from_dict(value) for key, value in json.loads(context.cursor or "{}").items()}
        result, checks, report = _evaluate(context, publisher, specs, states, "upstream_change")
        cursor = json.dumps({c.dataset: c.state.to_dict() for c in checks}, sort_keys=True)
        if result is None:
            return dg.SensorResult(skip_reason=report, cursor=cursor)
        return dg.SensorResult(run_requests=result.run_requests, dynamic_partitions_requests=result.dynamic_partitions_requests, cursor=cursor)

    return dfc_upstream_changes


def daily_source_check(specs: Sequence[DatasetSpec], jobs: Sequence) -> dg.SensorDefinition:
    """Once a day at DFC_SOURCE_CHECK_TIME (Eastern, default 09:00, after StatCan's 08:30 releases).

    A time-gated sensor rather than a ScheduleDefinition: a schedule targets one job, our chains are
    one job per dataset, and Dagster cannot build one job over differently partitioned assets.
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
        result, _, report = _evaluate(context, publisher, specs, {}, "daily_source_check")
        if result is None:
            return dg.SensorResult(skip_reason=report, cursor=today)
        return dg.SensorResult(run_requests=result.run_requests, dynamic_partitions_requests=result.dynamic_partitions_requests, cursor=today)

    return dfc_daily_source_check


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
