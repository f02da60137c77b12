"""The fixity audit job: scheduled weekly, launchable from the UI."""

from collections.abc import Sequence

import dagster as dg

from dfc_assets.defs.jobs import AUDIT_JOB
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.publication.audit import audit_latest_versions, audit_table
from dfc_assets.registry import DatasetSpec


class AuditConfig(dg.Config):
    full: bool = False  # hash every piece on every web seed, not only a sample


def fixity_audit_job(specs: Sequence[DatasetSpec]) -> dg.JobDefinition:
    @dg.op(name="audit_latest_versions", description="Re-verify each dataset's latest version: the Zenodo file's sha256 and every web seed's pieces.")
    def audit_latest(context: dg.OpExecutionContext, config: AuditConfig, publisher: PublisherResource) -> dg.Output:
        with publisher.open(context.log.info) as pub:
            findings = audit_latest_versions(pub, specs, full=config.full)
        failed = [f for f in findings if not f.fixity.passed]
        table = audit_table(findings)
        if failed:
            raise dg.Failure(
                description=f"{len(failed)} of {len(findings)} fixity checks failed: " + "; ".join(f"{f.dataset} {f.version} {f.check}: {f.fixity.description}" for f in failed),
                metadata={"findings": dg.MetadataValue.md(table)},
            )
        return dg.Output(len(findings), metadata={"findings": dg.MetadataValue.md(table), "checks_passed": len(findings)})

    @dg.job(name=AUDIT_JOB, description="Fixity audit of the latest published versions.", tags={"dfc/kind": "audit"})
    def audit_job():
        audit_latest()

    return audit_job
