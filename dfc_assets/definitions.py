"""The dfc_assets code location: one asset chain per shard, whatever the number of datasets."""

from __future__ import annotations

import os

import dagster as dg

from dfc_assets.defs.audit import fixity_audit_job
from dfc_assets.defs.automation import (
    batch_retry_sensor,
    catalog_automation_sensor,
    daily_source_check,
    upstream_sensor,
    weekly_catalog_rebuild,
    weekly_fixity_audit,
)
from dfc_assets.defs.catalog_assets import catalog_assets
from dfc_assets.defs.jobs import catalog_job, shard_job
from dfc_assets.defs.registry_view import shards as registry_shards
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.registry import default_registry_path
from dfc_assets.defs.shard_assets import shard_assets
from dfc_assets.defs.shard_checks import shard_checks


def build_definitions() -> dg.Definitions:
    shards = registry_shards()
    assets: list = [asset for shard in shards for asset in shard_assets(shard)]
    checks: list = [check for shard in shards for check in shard_checks(shard)]
    publish_jobs = [shard_job(shard) for shard in shards]
    return dg.Definitions(
        assets=[*assets, *catalog_assets(shards)],
        asset_checks=checks,
        jobs=[*publish_jobs, catalog_job(), fixity_audit_job],
        sensors=[upstream_sensor(shards, publish_jobs), daily_source_check(shards, publish_jobs), batch_retry_sensor(publish_jobs), catalog_automation_sensor()],
        schedules=[weekly_fixity_audit(), weekly_catalog_rebuild()],
        resources={"publisher": PublisherResource()},
        executor=run_executor(),
    )


def run_executor() -> dg.ExecutorDefinition:
    """Each step in its own process by default; run config `execution: {config: {in_process: {}}}` or
    DFC_RUN_EXECUTOR=in_process runs a whole run in one process (the embedded default does)."""
    return dg.in_process_executor if os.environ.get("DFC_RUN_EXECUTOR") == "in_process" else dg.multi_or_in_process_executor


defs = build_definitions()
built_from_registry = str(default_registry_path())  # cli.embedded rebuilds `defs` when DFC_REGISTRY names another file


def in_process_run_config() -> dict:
    """Run config that runs a whole run in one process (the embedded default's runs)."""
    return {} if os.environ.get("DFC_RUN_EXECUTOR") == "in_process" else {"execution": {"config": {"in_process": {}}}}
