"""Asset checks of a shard's chain, on the same partitions, named for what they protect; each calls one plain fixity function."""

from collections.abc import Callable, Iterator

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationTargetMaterializationData

from dfc_assets.defs.registry_view import dataset_of_partition
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.defs.shard_assets import shard_partitions
from dfc_assets.publication import verify
from dfc_assets.publication.context import Publisher
from dfc_assets.publication.schema_drift_check import check_schema_drift
from dfc_assets.registry import DatasetSpec

Fixity = Callable[[Publisher, DatasetSpec, str], verify.Fixity]

# (asset, check name, what it protects, the fixity function); all blocking: a failure stops the chain there.
CHECKS: tuple[tuple[str, str, str, Fixity], ...] = (
    ("parquet", "artifact_matches_manifest",
     "Before anything is sent to Zenodo: the artifact under releases/ has the sha256 and a row count from its manifest.",
     verify.artifact_matches_manifest),
    ("parquet", "schema_matches_previous_version",
     "Before anything is sent to Zenodo: no column of the previous published version was removed, renamed or retyped "
     "(added columns pass). A reviewed breaking change is listed in the registry's accepted_schema_changes.",
     check_schema_drift),
    ("zenodo_record", "zenodo_file_matches_artifact",
     "Before a torrent lists Zenodo as a web seed: the public Zenodo file has the artifact's sha256.",
     verify.zenodo_file_matches_artifact),
    ("torrent", "web_seeds_serve_the_torrent",
     "Before the STAC item and processed/ point at it: every web seed in the .torrent answers Range and its sampled pieces hash to the torrent's.",
     verify.web_seeds_serve_the_torrent),
)


def check_result(spec: DatasetSpec, version: str, fixity: verify.Fixity) -> dict:
    """The fields of an asset check result (a check run or the fixity audit) for one dataset version."""
    return dict(
        passed=fixity.passed,
        description=fixity.description,
        metadata={"dataset": spec.key, "version": version, **{key: dg.MetadataValue.text(str(value)) for key, value in fixity.details.items()}},
    )


def _evaluations(context: dg.AssetCheckExecutionContext, pub: Publisher, shard: str, asset_key: dg.AssetKey, name: str,
                 fixity: Fixity) -> Iterator[dg.AssetCheckEvaluation]:
    """One evaluation per partition of the run (one, or a range): Dagster's AssetCheckResult carries no partition in a
    range run, so each is an AssetCheckEvaluation on its own partition, against that partition's materialization."""
    for key in context.partition_keys:
        spec, version = dataset_of_partition(pub.store, shard, key)
        latest = context.instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[key]), limit=1).records
        target = AssetCheckEvaluationTargetMaterializationData(run_id=latest[0].event_log_entry.run_id, storage_id=latest[0].storage_id, timestamp=latest[0].timestamp) if latest else None
        yield dg.AssetCheckEvaluation(asset_key=asset_key, check_name=name, partition=key, blocking=True, target_materialization_data=target,
                                      **check_result(spec, version, fixity(pub, spec, version)))


def _check(shard: str, partitions: dg.PartitionsDefinition, asset: str, name: str, description: str, fixity: Fixity) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey([shard, asset])

    @dg.asset_check(asset=asset_key, name=name, blocking=True, partitions_def=partitions, description=description)
    def check(context: dg.AssetCheckExecutionContext, publisher: PublisherResource):
        with publisher.open(context.log.info) as pub:
            yield from _evaluations(context, pub, shard, asset_key, name, fixity)
        yield dg.Output(None)  # the check's own output; a failed blocking evaluation still fails the step after every partition

    return check


def shard_checks(shard: str) -> list[dg.AssetChecksDefinition]:
    partitions = shard_partitions(shard)
    return [_check(shard, partitions, *entry) for entry in CHECKS]


def check_names(asset: str) -> tuple[str, ...]:
    return tuple(name for on, name, _, _ in CHECKS if on == asset)
