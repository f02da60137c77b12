"""Jobs operators launch from the UI or the CLI: one publishing job per dataset, and the catalog."""

import dagster as dg

from dfc_assets.registry import DatasetSpec


def publish_job_name(spec: DatasetSpec) -> str:
    return f"publish__{spec.key}"


CATALOG_JOB = "build_catalog"
AUDIT_JOB = "fixity_audit"


def dataset_job(spec: DatasetSpec):
    return dg.define_asset_job(
        publish_job_name(spec),
        selection=dg.AssetSelection.groups(spec.key),
        partitions_def=dg.DynamicPartitionsDefinition(name=spec.partitions_name),
        description=f"Publish one version of {spec.id}: archive, artifact, Zenodo DOI, torrent, STAC item.",
        tags={"dfc/dataset": spec.key, "dfc/zenodo": "upload"},  # run queue limits in docker/dagster.yaml
    )


def catalog_job():
    return dg.define_asset_job(CATALOG_JOB, selection=dg.AssetSelection.groups("catalog"), description="Rebuild the STAC GeoParquet catalog from every published item.")
