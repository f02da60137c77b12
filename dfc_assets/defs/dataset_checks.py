"""Asset checks of a dataset's chain, named for what they protect."""

import dagster as dg

from dfc_assets.defs.resources import PublisherResource
from dfc_assets.publication import verify
from dfc_assets.publication.schema_drift_check import check_schema_drift
from dfc_assets.registry import DatasetSpec


def _result(fixity: verify.Fixity) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=fixity.passed,
        description=fixity.description,
        metadata={key: dg.MetadataValue.text(str(value)) for key, value in fixity.details.items()},
    )


def dataset_checks(spec: DatasetSpec) -> list[dg.AssetChecksDefinition]:
    partitions = dg.DynamicPartitionsDefinition(name=spec.partitions_name)
    @dg.asset_check(
        asset=dg.AssetKey([spec.key, "parquet"]), name="artifact_matches_manifest", blocking=True, partitions_def=partitions,
        description="Before anything is sent to Zenodo: the artifact under releases/ has the sha256 and a row count from its manifest.",
    )
    def artifact_matches_manifest(context: dg.AssetCheckExecutionContext, publisher: PublisherResource) -> dg.AssetCheckResult:
        with publisher.open(context.log.info) as pub:
            return _result(verify.artifact_matches_manifest(pub, spec, _partition(context)))

    @dg.asset_check(
        asset=dg.AssetKey([spec.key, "parquet"]), name="schema_matches_previous_version", blocking=True, partitions_def=partitions,
        description="Before anything is sent to Zenodo: no column of the previous published version was removed, renamed or retyped "
                    "(added columns pass). A reviewed breaking change is listed in the registry's accepted_schema_changes.",
    )
    def schema_matches_previous_version(context: dg.AssetCheckExecutionContext, publisher: PublisherResource) -> dg.AssetCheckResult:
        with publisher.open(context.log.info) as pub:
            return _result(check_schema_drift(pub, spec, _partition(context)))

    @dg.asset_check(
        asset=dg.AssetKey([spec.key, "zenodo_record"]), name="zenodo_file_matches_artifact", blocking=True, partitions_def=partitions,
        description="Before a torrent lists Zenodo as a web seed: the public Zenodo file has the artifact's sha256.",
    )
    def zenodo_file_matches_artifact(context: dg.AssetCheckExecutionContext, publisher: PublisherResource) -> dg.AssetCheckResult:
        with publisher.open(context.log.info) as pub:
            return _result(verify.zenodo_file_matches_artifact(pub, spec, _partition(context)))

    @dg.asset_check(
        asset=dg.AssetKey([spec.key, "torrent"]), name="web_seeds_serve_the_torrent", blocking=True, partitions_def=partitions,
        description="Before the STAC item and processed/ point at it: every web seed in the .torrent answers Range and its sampled pieces hash to the torrent's.",
    )
    def web_seeds_serve_the_torrent(context: dg.AssetCheckExecutionContext, publisher: PublisherResource) -> dg.AssetCheckResult:
        with publisher.open(context.log.info) as pub:
            return _result(verify.web_seeds_serve_the_torrent(pub, spec, _partition(context)))

    return [artifact_matches_manifest, schema_matches_previous_version, zenodo_file_matches_artifact, web_seeds_serve_the_torrent]


def _partition(context: dg.AssetCheckExecutionContext) -> str:
    return context.partition_key
