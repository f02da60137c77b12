"""Jobs operators launch from the UI or the CLI: one publishing job per shard (never per dataset), and the catalog."""

import dagster as dg

from dfc_assets.partitions import partitions_name

CATALOG_JOB = "build_catalog"
AUDIT_JOB = "fixity_audit"
CHAIN_STEPS = ("raw", "parquet", "zenodo_record", "torrent", "stac_item")  # a shard's assets [shard, step], in chain order


def publish_job_name(shard: str) -> str:
    return f"publish__{shard}"


def shard_job(shard: str):
    return dg.define_asset_job(
        publish_job_name(shard),
        selection=dg.AssetSelection.groups(shard),
        partitions_def=dg.DynamicPartitionsDefinition(name=partitions_name(shard)),
        description=f"Publish dataset versions of shard {shard} (a partition '{{dataset key}}:{{version}}', or a range of them): archive, artifact, Zenodo DOI, torrent, STAC item.",
        tags={"dfc/zenodo": "upload"},  # dfc/dataset and dfc/shard come from the run coordinator (defs/run_coordinator.py)
    )


def catalog_job():
    return dg.define_asset_job(CATALOG_JOB, selection=dg.AssetSelection.groups("catalog"), description="Rebuild the STAC GeoParquet catalog from every published item.")
