"""The dfc_assets code location."""

from __future__ import annotations

import os

import dagster as dg

from dfc_assets.defs.audit import fixity_audit_job
from dfc_assets.defs.automation import (
    catalog_automation_sensor,
    daily_source_check,
    upstream_sensor,
    weekly_catalog_rebuild,
    weekly_fixity_audit,
)
from dfc_assets.defs.catalog_assets import catalog_assets
from dfc_assets.defs.dataset_assets import dataset_assets
from dfc_assets.defs.dataset_checks import dataset_checks
from dfc_assets.defs.jobs import catalog_job, dataset_job
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.registry import load_registry


def build_definitions() -> dg.Definitions:
    specs = load_registry()
    assets: list = []
    checks: list = []
    for spec in specs:
        assets += dataset_assets(spec)
        checks += dataset_checks(spec)
    assets += catalog_assets(specs)
    publish_jobs = [dataset_job(spec) for spec in specs]
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[*publish_jobs, catalog_job(), fixity_audit_job(specs)],
        sensors=[upstream_sensor(specs, publish_jobs), daily_source_check(specs, publish_jobs), catalog_automation_sensor()],
        schedules=[weekly_fixity_audit(), weekly_catalog_rebuild()],
        resources={"publisher": PublisherResource()},
        executor=run_executor(),
    )


def run_executor() -> dg.ExecutorDefinition:
    """Each step in its own process (the default); DFC_RUN_EXECUTOR=in_process runs a whole run in one process."""
    return dg.in_process_executor if os.environ.get("DFC_RUN_EXECUTOR") == "in_process" else dg.multiprocess_executor


defs = build_definitions()
