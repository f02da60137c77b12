"""The asset chain of one shard (DESIGN §2): raw -> parquet -> zenodo_record -> torrent -> stac_item.

One chain per shard (a source kind, or one StatCan subject), never per dataset: the cost of the
definitions does not grow with the registry. Each partition ``{dataset key}:{version}`` is one version of
one dataset, found in the registry when the step runs; the assets only call publication steps and report.
"""

import dagster as dg

from dfc_assets.code_version import TRANSFORM_CODE_VERSION
from dfc_assets.defs.automation import UPSTREAM_RELEASES_TAG
from dfc_assets.defs.registry_view import dataset_of_partition
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.partitions import STATCAN_TABLE, partitions_name
from dfc_assets.publication import artifact as artifact_step
from dfc_assets.publication import raw as raw_step
from dfc_assets.publication import stac_item as stac_step
from dfc_assets.publication import torrent as torrent_step
from dfc_assets.publication import zenodo_record as zenodo_step
from dfc_assets.publication.context import Publisher
from dfc_assets.publication.latest import current_latest
from dfc_assets.registry import DatasetSpec


def shard_partitions(shard: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=partitions_name(shard))


def what_the_shard_holds(shard: str) -> str:
    if shard.startswith(f"{STATCAN_TABLE}_"):
        subject = shard.removeprefix(f"{STATCAN_TABLE}_")
        return "StatCan WDS tables of no listed subject" if subject == "other" else f"StatCan WDS tables of subject {subject} (product ids {subject}xxxxxx)"
    return f"Datasets of source kind {shard}"


def _column_schema(columns: list[dict]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=c["name"], type=c["type"]) for c in columns])


def _web_seed_table(reports) -> str:
    lines = ["| web seed | state | pieces checked |", "| --- | --- | --- |"]
    for report in reports:
        state = "verified" if report.ok else f"left out: {report.reason}"
        lines.append(f"| {report.url} | {state} | {len(report.pieces_checked)} |")
    return "\n".join(lines)


def _which(spec: DatasetSpec, version: str) -> dict:
    return {"dataset": spec.key, "dataset_id": spec.id, "version": version, "title": spec.title.en}


def _current(pub: Publisher, spec: DatasetSpec) -> dict:
    """The dataset's current version and DOI (what processed/ serves), whatever version this run published."""
    version = current_latest(pub, spec)
    record = zenodo_step.published_record(pub, spec, version) if version else None
    return {
        "current_version": version or "none yet",
        "current_doi": dg.MetadataValue.url(record.doi_url) if record else dg.MetadataValue.text("none yet"),
    }


def shard_assets(shard: str) -> list[dg.AssetsDefinition]:
    common = dict(
        key_prefix=[shard],
        group_name=shard,
        partitions_def=shard_partitions(shard),
        tags={"dfc/shard": shard},
    )
    holds = what_the_shard_holds(shard)

    def resolve(context: dg.AssetExecutionContext, pub: Publisher) -> tuple[DatasetSpec, str]:
        spec, version = dataset_of_partition(pub.store, shard, context.partition_key)
        context.log.info(f"{spec.key} ({spec.id}) version {version}: {spec.title.en}")
        return spec, version

    @dg.asset(name="raw", description=f"{holds}: the upstream files of each version, archived under archive/ with sha256.", kinds={"http", "s3"}, **common)
    def raw(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            spec, version = resolve(context, pub)
            covers = tuple(r for r in context.run.tags.get(UPSTREAM_RELEASES_TAG, "").split(",") if r)
            archive = raw_step.archive_raw(pub, spec, version, upstream_releases=covers)
        return dg.MaterializeResult(metadata={
            **_which(spec, version),
            "upstream_releases": dg.MetadataValue.json(list(archive.upstream_releases)),
            "files": dg.MetadataValue.json(list(archive.files)),
            "total_bytes": archive.total_size,
            "reused_archive": archive.reused,
        })

    @dg.asset(
        name="parquet", deps=[raw.key], code_version=TRANSFORM_CODE_VERSION, kinds={"parquet", "s3"},
        description=f"{holds}: each version's deterministic Parquet or GeoParquet artifact under releases/ and its build manifest.",
        **common,
    )
    def parquet(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            spec, version = resolve(context, pub)
            artifact = artifact_step.build_artifact(pub, spec, version)
            release_url = pub.store.public_url(artifact.key)
            manifest_url = pub.store.public_url(artifact.manifest_key)
            footprint_url = pub.store.public_url(pub.keys(spec, version).footprint_png)
        output = artifact.output
        return dg.MaterializeResult(metadata={
            **_which(spec, version),
            **({"dagster/row_count": output.rows} if output.rows is not None else {}),
            **({"dagster/column_schema": _column_schema(output.schema_dicts)} if output.schema else {}),
            "size_bytes": artifact.manifest.total_size,
            "sha256": artifact.manifest.primary.sha256,
            "files": dg.MetadataValue.json([{"name": f.name, "size": f.size, "sha256": f.sha256, "role": f.role} for f in artifact.files]),
            "release_url": dg.MetadataValue.url(release_url),
            "manifest_url": dg.MetadataValue.url(manifest_url),
            "footprint": dg.MetadataValue.md(f"![Footprint of {spec.key} {version}]({footprint_url})"),
            "reused": artifact.reused,
        })

    @dg.asset(
        name="zenodo_record", deps=[parquet.key], kinds={"zenodo"}, pool="zenodo_api",
        description=f"{holds}: each version published on Zenodo with its own DOI, under its dataset's concept DOI.",
        **common,
    )
    def zenodo_record(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            spec, version = resolve(context, pub)
            record = zenodo_step.publish_zenodo(pub, spec, version)
            current = _current(pub, spec)
        return dg.MaterializeResult(metadata={
            **_which(spec, version),
            "doi": dg.MetadataValue.url(record.doi_url),
            "concept_doi": dg.MetadataValue.url(record.concept_doi_url),
            "zenodo_record": dg.MetadataValue.url(record.record_url),
            "record_id": record.record_id,
            "files": dg.MetadataValue.json([{"key": f.key, "size": f.size, "md5": f.md5, "url": f.url} for f in record.files]),
            **current,
        })

    @dg.asset(
        name="torrent", deps=[zenodo_record.key], kinds={"bittorrent"},
        description=f"{holds}: each version's torrents (hybrid v1+v2, and v1 for clients without v2) holding every file of the version, web-seeded by releases/ (and Zenodo for one file), and their magnet URIs.",
        **common,
    )
    def torrent(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            spec, version = resolve(context, pub)
            published = torrent_step.make_torrent(pub, spec, version)
        built = published.info
        return dg.MaterializeResult(metadata={
            **_which(spec, version),
            "torrent_url": dg.MetadataValue.url(published.url),
            "magnet": dg.MetadataValue.text(published.magnet),
            "infohash_v1": built.infohash_v1,
            "infohash_v2": built.infohash_v2 or "",
            "piece_size": built.piece_size,
            **({"torrent_v1_url": dg.MetadataValue.url(published.v1.url), "magnet_v1": dg.MetadataValue.text(published.v1.magnet)}
               if published.v1 else {}),
            "web_seeds": dg.MetadataValue.json(list(built.web_seeds)),
            "web_seed_verification": dg.MetadataValue.md(_web_seed_table(published.web_seed_reports)) if published.web_seed_reports else dg.MetadataValue.text("verified when first published"),
            "reused": published.reused,
        })

    @dg.asset(
        name="stac_item", deps=[torrent.key], kinds={"stac"}, pool="dfc_latest",
        description=f"{holds}: each version's STAC item; moves its dataset's processed/ forward to it once fully published.",
        **common,
    )
    def stac_item(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            spec, version = resolve(context, pub)
            published = stac_step.write_stac_item(pub, spec, version)
            item_url = pub.store.public_url(published.key)
            current = _current(pub, spec)
        return dg.MaterializeResult(metadata={
            **_which(spec, version),
            "item_id": published.item["id"],
            "item_url": dg.MetadataValue.url(item_url),
            "processed_moved_here": published.latest_moved,
            **current,
        })

    return [raw, parquet, zenodo_record, torrent, stac_item]
