"""The asset chain of one shard (DESIGN §2): raw -> parquet -> zenodo_record -> torrent -> stac_item.

One chain per shard (a source kind, or one StatCan subject), never per dataset: the cost of the
definitions does not grow with the registry. Each partition ``{dataset key}:{version}`` is one version of
one dataset, found in the registry when the step runs; the assets only call publication steps and report.
A run covers one partition or a range of them (partitions per run, README): every step publishes each
version of its run in turn, each version's metadata on its own partition.
"""

from collections.abc import Callable, Iterator

import dagster as dg

from dfc_assets.code_version import TRANSFORM_CODE_VERSION
from dfc_assets.defs.automation import upstream_releases_of
from dfc_assets.defs.registry_view import dataset_of_partition
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.partitions import STATCAN_TABLE, partition_key, partitions_name, partitions_per_run, split_partition_key
from dfc_assets.publication import artifact as artifact_step
from dfc_assets.publication import raw as raw_step
from dfc_assets.publication import stac_item as stac_step
from dfc_assets.publication import torrent as torrent_step
from dfc_assets.publication import zenodo_record as zenodo_step
from dfc_assets.publication.context import Publisher
from dfc_assets.publication.latest import current_latest
from dfc_assets.registry import DatasetSpec
from dfc_assets.versions import version_sort_key


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


class VersionsFailed(dg.Failure):
    """Some versions of a multi-version run failed at one step; the others were published through it."""


# One step for one dataset version: (context, publisher, dataset, version) -> that partition's metadata.
VersionStep = Callable[[dg.AssetExecutionContext, Publisher, DatasetSpec, str], dict]


def in_publishing_order(keys) -> list[str]:
    """Partition keys by dataset, each dataset's versions oldest first (processed/ moves forward only anyway)."""
    def order(key: str):
        dataset, version = split_partition_key(key)
        return dataset, version_sort_key(version)

    return sorted(keys, key=order)


def publish_each_version(context: dg.AssetExecutionContext, publisher: PublisherResource, shard: str, step: VersionStep) -> Iterator:
    """Run ``step`` for every partition of the run, each partition's metadata on its own materialization.

    One partition: its error is the step's. Several: a failing version does not stop the others; the step then
    records the versions it published and fails naming each failed dataset version (the run's sensor or the
    embedded runner republishes the unpublished ones one per run; every step is idempotent). Each step takes its
    dataset's lease around the work on each version (publication.dataset_lease), so runs that overlap in datasets,
    however launched, publish one at a time; the lease names this run to any run that waits for it.
    """
    keys = in_publishing_order(context.partition_keys)
    done: dict[str, dict] = {}
    failed: list[tuple[str, Exception]] = []
    with publisher.open(context.log.info, holder=f"run {context.run_id} ({context.job_name})") as pub:
        for key in keys:
            try:
                spec, version = dataset_of_partition(pub.store, shard, key)
                context.log.info(f"{spec.key} ({spec.id}) version {version}: {spec.title.en}")
                done[key] = {**_which(spec, version), **step(context, pub, spec, version)}
            except Exception as error:
                if len(keys) == 1:
                    raise
                context.log.error(f"{key}: {error}")
                failed.append((key, error))
    if failed:
        for key, metadata in done.items():
            yield dg.AssetMaterialization(asset_key=context.asset_key, partition=key, metadata=metadata)
        names = "; ".join(f"{dataset} version {version}: {error}" for (dataset, version), error in ((split_partition_key(k), e) for k, e in failed))
        raise VersionsFailed(
            description=f"{context.asset_key.to_user_string()}: {len(failed)} of {len(keys)} versions failed: {names}",
            metadata={"failed": dg.MetadataValue.json([key for key, _ in failed]), "published": dg.MetadataValue.json(list(done))},
        ) from failed[0][1]
    for key, metadata in done.items():
        context.add_asset_metadata(metadata, partition_key=key)
    yield dg.MaterializeResult()


def _archive(context: dg.AssetExecutionContext, pub: Publisher, spec: DatasetSpec, version: str) -> dict:
    covers = upstream_releases_of(context.run.tags, partition_key(spec.key, version))
    archive = raw_step.archive_raw(pub, spec, version, upstream_releases=covers)
    return {
        "upstream_releases": dg.MetadataValue.json(list(archive.upstream_releases)),
        "files": dg.MetadataValue.json(list(archive.files)),
        "total_bytes": archive.total_size,
        "reused_archive": archive.reused,
    }


def _artifact(context: dg.AssetExecutionContext, pub: Publisher, spec: DatasetSpec, version: str) -> dict:
    artifact = artifact_step.build_artifact(pub, spec, version)
    output = artifact.output
    footprint_url = pub.store.public_url(pub.keys(spec, version).footprint_png)
    return {
        **({"dagster/row_count": output.rows} if output.rows is not None else {}),
        **({"dagster/column_schema": _column_schema(output.schema_dicts)} if output.schema else {}),
        "size_bytes": artifact.manifest.total_size,
        "sha256": artifact.manifest.primary.sha256,
        "files": dg.MetadataValue.json([{"name": f.name, "size": f.size, "sha256": f.sha256, "role": f.role} for f in artifact.files]),
        "release_url": dg.MetadataValue.url(pub.store.public_url(artifact.key)),
        "manifest_url": dg.MetadataValue.url(pub.store.public_url(artifact.manifest_key)),
        "footprint": dg.MetadataValue.md(f"![Footprint of {spec.key} {version}]({footprint_url})"),
        "reused": artifact.reused,
    }


def _zenodo(context: dg.AssetExecutionContext, pub: Publisher, spec: DatasetSpec, version: str) -> dict:
    record = zenodo_step.publish_zenodo(pub, spec, version)
    return {
        "doi": dg.MetadataValue.url(record.doi_url),
        "concept_doi": dg.MetadataValue.url(record.concept_doi_url),
        "zenodo_record": dg.MetadataValue.url(record.record_url),
        "record_id": record.record_id,
        "files": dg.MetadataValue.json([{"key": f.key, "size": f.size, "md5": f.md5, "url": f.url} for f in record.files]),
        **_current(pub, spec),
    }


def _torrent(context: dg.AssetExecutionContext, pub: Publisher, spec: DatasetSpec, version: str) -> dict:
    published = torrent_step.make_torrent(pub, spec, version)
    built = published.info
    return {
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
    }


def _stac_item(context: dg.AssetExecutionContext, pub: Publisher, spec: DatasetSpec, version: str) -> dict:
    published = stac_step.write_stac_item(pub, spec, version)
    return {
        "item_id": published.item["id"],
        "item_url": dg.MetadataValue.url(pub.store.public_url(published.key)),
        "processed_moved_here": published.latest_moved,
        **_current(pub, spec),
    }


# (asset, step, upstream asset, kinds, extra asset arguments, what each partition is)
CHAIN: tuple[tuple[str, VersionStep, str | None, set[str], dict, str], ...] = (
    ("raw", _archive, None, {"http", "s3"}, {}, "the upstream files of each version, archived under archive/ with sha256."),
    ("parquet", _artifact, "raw", {"parquet", "s3"}, {"code_version": TRANSFORM_CODE_VERSION},
     "each version's deterministic Parquet or GeoParquet artifact under releases/ and its build manifest."),
    ("zenodo_record", _zenodo, "parquet", {"zenodo"}, {"pool": "zenodo_api"},
     "each version published on Zenodo with its own DOI, under its dataset's concept DOI."),
    ("torrent", _torrent, "zenodo_record", {"bittorrent"}, {},
     "each version's torrents (hybrid v1+v2, and v1 for clients without v2) holding every file of the version, web-seeded by releases/ "
     "(and Zenodo for one file), and their magnet URIs."),
    ("stac_item", _stac_item, "torrent", {"stac"}, {"pool": "dfc_latest"},
     "each version's STAC item; moves its dataset's processed/ forward to it once fully published."),
)


def _chain_asset(shard: str, name: str, step: VersionStep, upstream: str | None, kinds: set[str], extra: dict, what: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=name, key_prefix=[shard], group_name=shard, partitions_def=shard_partitions(shard), tags={"dfc/shard": shard},
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=partitions_per_run()),
        deps=[dg.AssetKey([shard, upstream])] if upstream else None, kinds=kinds, description=f"{what_the_shard_holds(shard)}: {what}", **extra,
    )
    def chain_step(context: dg.AssetExecutionContext, publisher: PublisherResource):
        yield from publish_each_version(context, publisher, shard, step)

    return chain_step


def shard_assets(shard: str) -> list[dg.AssetsDefinition]:
    return [_chain_asset(shard, *entry) for entry in CHAIN]
