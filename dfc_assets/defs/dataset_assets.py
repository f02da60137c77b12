"""The asset chain of one dataset (DESIGN §2): raw -> parquet -> zenodo_record -> torrent -> stac_item.

A factory makes it per registry dataset; every asset is partitioned by version on the
dataset's own dynamic partition set. The assets only call publication steps and report.
"""

import dagster as dg

from dfc_assets.code_version import TRANSFORM_CODE_VERSION
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.publication import artifact as artifact_step
from dfc_assets.publication import raw as raw_step
from dfc_assets.publication import stac_item as stac_step
from dfc_assets.publication import torrent as torrent_step
from dfc_assets.publication import zenodo_record as zenodo_step
from dfc_assets.registry import DatasetSpec

ASSET_NAMES = ("raw", "parquet", "zenodo_record", "torrent", "stac_item")


def _column_schema(columns: list[dict]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=c["name"], type=c["type"]) for c in columns])


def _web_seed_table(reports) -> str:
    lines = ["| web seed | state | pieces checked |", "| --- | --- | --- |"]
    for report in reports:
        state = "verified" if report.ok else f"left out: {report.reason}"
        lines.append(f"| {report.url} | {state} | {len(report.pieces_checked)} |")
    return "\n".join(lines)


def dataset_assets(spec: DatasetSpec) -> list[dg.AssetsDefinition]:
    partitions = dg.DynamicPartitionsDefinition(name=spec.partitions_name)
    common = dict(
        key_prefix=[spec.key],
        group_name=spec.key,
        partitions_def=partitions,
        owners=list(spec.owners),
        tags={"dfc/dataset": spec.key, "dfc/source": spec.source.kind},
        backfill_policy=dg.BackfillPolicy.multi_run(1),
    )
    title = spec.title.en + (f" / {spec.title.fr}" if spec.title.fr else "")
    about = f"\n\n{spec.description.en}" + (f"\n\n*{spec.title.fr}* — {spec.description.fr}" if spec.description.fr else "")

    @dg.asset(name="raw", description=f"Upstream files of {title}, archived under archive/ with sha256." + about, kinds={"http", "s3"}, **common)
    def raw(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            archive = raw_step.archive_raw(pub, spec, context.partition_key)
        return dg.MaterializeResult(metadata={
            "files": dg.MetadataValue.json(list(archive.files)),
            "total_bytes": archive.total_size,
            "reused_archive": archive.reused,
        })

    @dg.asset(
        name="parquet", deps=[raw.key], code_version=TRANSFORM_CODE_VERSION, kinds={"parquet", "s3"},
        description=f"{title}: the deterministic {'GeoParquet' if spec.is_geospatial else 'Parquet'} artifact under releases/ and its build manifest." + about,
        **common,
    )
    def parquet(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            artifact = artifact_step.build_artifact(pub, spec, context.partition_key)
            release_url = pub.store.public_url(artifact.key)
            manifest_url = pub.store.public_url(artifact.manifest_key)
            footprint_url = pub.store.public_url(pub.keys(spec, context.partition_key).footprint_png)
        output = artifact.output
        return dg.MaterializeResult(metadata={
            **({"dagster/row_count": output.rows} if output.rows is not None else {}),
            **({"dagster/column_schema": _column_schema(output.schema_dicts)} if output.schema else {}),
            "size_bytes": artifact.manifest.total_size,
            "sha256": artifact.manifest.primary.sha256,
            "files": dg.MetadataValue.json([{"name": f.name, "size": f.size, "sha256": f.sha256, "role": f.role} for f in artifact.files]),
            "release_url": dg.MetadataValue.url(release_url),
            "manifest_url": dg.MetadataValue.url(manifest_url),
            "footprint": dg.MetadataValue.md(f"![Footprint of {spec.key} {context.partition_key}]({footprint_url})"),
            "reused": artifact.reused,
        })

    @dg.asset(
        name="zenodo_record", deps=[parquet.key], kinds={"zenodo"}, pool="zenodo_api",
        description=f"{title}: the version published on Zenodo with its own DOI, under the dataset's concept DOI." + about,
        **common,
    )
    def zenodo_record(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            record = zenodo_step.publish_zenodo(pub, spec, context.partition_key)
        return dg.MaterializeResult(metadata={
            "doi": dg.MetadataValue.url(record.doi_url),
            "concept_doi": dg.MetadataValue.url(record.concept_doi_url),
            "zenodo_record": dg.MetadataValue.url(record.record_url),
            "record_id": record.record_id,
            "files": dg.MetadataValue.json([{"key": f.key, "size": f.size, "md5": f.md5, "url": f.url} for f in record.files]),
        })

    @dg.asset(
        name="torrent", deps=[zenodo_record.key], kinds={"bittorrent"},
        description=f"{title}: a single-file torrent web-seeded by Zenodo and releases/, and its magnet URI." + about,
        **common,
    )
    def torrent(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            published = torrent_step.make_torrent(pub, spec, context.partition_key)
        built = published.info
        return dg.MaterializeResult(metadata={
            "torrent_url": dg.MetadataValue.url(published.url),
            "magnet": dg.MetadataValue.text(published.magnet),
            "infohash_v1": built.infohash_v1,
            "infohash_v2": built.infohash_v2 or "",
            "piece_size": built.piece_size,
            "web_seeds": dg.MetadataValue.json(list(built.web_seeds)),
            "web_seed_verification": dg.MetadataValue.md(_web_seed_table(published.web_seed_reports)) if published.web_seed_reports else dg.MetadataValue.text("verified when first published"),
            "reused": published.reused,
        })

    @dg.asset(
        name="stac_item", deps=[torrent.key], kinds={"stac"}, pool="dfc_latest",
        description=f"{title}: the STAC item of the version; moves processed/ forward to it once fully published." + about,
        **common,
    )
    def stac_item(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            published = stac_step.write_stac_item(pub, spec, context.partition_key)
            item_url = pub.store.public_url(published.key)
        return dg.MaterializeResult(metadata={
            "item_id": published.item["id"],
            "item_url": dg.MetadataValue.url(item_url),
            "processed_moved_here": published.latest_moved,
        })

    return [raw, parquet, zenodo_record, torrent, stac_item]
