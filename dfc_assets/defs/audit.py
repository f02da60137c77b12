"""The fixity audit job: scheduled weekly, launchable from the UI; each result lands on the asset check of the version it checked."""

import dagster as dg

from dfc_assets.defs.jobs import AUDIT_JOB
from dfc_assets.defs.registry_view import registered_dataset, registered_datasets
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.defs.shard_checks import CHECKS, check_result
from dfc_assets.partitions import partition_key, shard_of
from dfc_assets.publication.audit import AuditFinding, audit_latest_versions, audit_table

CHECKED_ASSET = {name: asset for asset, name, _, _ in CHECKS}


class AuditConfig(dg.Config):
    full: bool = False  # hash every piece on every web seed, not only a sample


def check_evaluation(store, finding: AuditFinding) -> dg.AssetCheckEvaluation:
    """The finding as an evaluation of the asset check it repeats, on the partition of the version it checked."""
    spec = registered_dataset(store, finding.dataset)
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey([shard_of(spec), CHECKED_ASSET[finding.check]]),
        check_name=finding.check,
        partition=partition_key(spec.key, finding.version),
        **check_result(spec, finding.version, finding.fixity),
    )


@dg.op(name="audit_latest_versions", description="Re-verify each dataset's latest version: the Zenodo file's sha256 and every web seed's pieces.")
def audit_latest(context: dg.OpExecutionContext, config: AuditConfig, publisher: PublisherResource) -> dg.Output:
    with publisher.open(context.log.info) as pub:
        findings = audit_latest_versions(pub, registered_datasets(pub.store), full=config.full)
        for finding in findings:
            context.log_event(check_evaluation(pub.store, finding))
    failed = [f for f in findings if not f.fixity.passed]
    table = audit_table(findings)
    if failed:
        raise dg.Failure(
            description=f"{len(failed)} of {len(findings)} fixity checks failed: " + "; ".join(f"{f.dataset} {f.version} {f.check}: {f.fixity.description}" for f in failed),
            metadata={"findings": dg.MetadataValue.md(table)},
        )
    return dg.Output(len(findings), metadata={"findings": dg.MetadataValue.md(table), "checks_passed": len(findings)})


@dg.job(name=AUDIT_JOB, description="Fixity audit of the latest published versions.", tags={"dfc/kind": "audit"})
def fixity_audit_job():
    audit_latest()
