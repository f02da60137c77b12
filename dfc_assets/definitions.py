"""The dfc_assets code location."""

from __future__ import annotations

import dagster as dg

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
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[dataset_job(spec) for spec in specs] + [catalog_job()],
        resources={"publisher": PublisherResource()},
    )


defs = build_definitions()
