"""The fixity audit of published versions: Zenodo files and every web seed, re-verified."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dfc_assets.publication.context import Publisher
from dfc_assets.publication.latest import current_latest
from dfc_assets.publication.verify import Fixity, web_seeds_serve_the_torrent, zenodo_file_matches_artifact
from dfc_assets.registry import DatasetSpec


@dataclass(frozen=True)
class AuditFinding:
    dataset: str
    version: str
    check: str
    fixity: Fixity


def audit_latest_versions(publisher: Publisher, specs: Sequence[DatasetSpec], *, full: bool = False) -> list[AuditFinding]:
    findings = []
    for spec in specs:
        version = current_latest(publisher, spec)
        if version is None:
            continue
        publisher.log(f"audit: {spec.key} version {version}")
        findings.append(AuditFinding(spec.key, version, "zenodo_file_matches_artifact", zenodo_file_matches_artifact(publisher, spec, version)))
        findings.append(AuditFinding(spec.key, version, "web_seeds_serve_the_torrent", web_seeds_serve_the_torrent(publisher, spec, version, full=full)))
    return findings


def audit_table(findings: Sequence[AuditFinding]) -> str:
    lines = ["| dataset | version | check | result |", "| --- | --- | --- | --- |"]
    lines += [f"| {f.dataset} | {f.version} | {f.check} | {'pass' if f.fixity.passed else 'FAIL'}: {f.fixity.description} |" for f in findings]
    return "\n".join(lines)
