"""The fixity audit of published versions: Zenodo files and every web seed, re-verified.

Web seeds are checked on a rotating window of pieces (`torrent.webseeds.rotating_pieces`): round ``r`` checks
about AUDIT_BUDGET_BYTES per web seed and moves by its own length, so the pieces checked differ from audit to
audit and rounds ``r .. r + cycle - 1`` check every piece of every web seed and configured mirror, where
``cycle = audit_cycle(info, AUDIT_BUDGET_BYTES)`` (1 for files up to 4 GiB, 7 for 27 GB). The weekly schedule
numbers rounds by the week (`audit_round`), so every piece is checked within ``cycle`` weeks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.latest import current_latest
from dfc_assets.publication.torrent import check_web_seeds, load_torrent
from dfc_assets.publication.verify import DEFAULT_DEADLINE_SECONDS, Fixity, zenodo_file_matches_artifact
from dfc_assets.registry import DatasetSpec
from dfc_assets.torrent.webseeds import AUDIT_BUDGET_BYTES, WebSeedReport, audit_cycle

WEB_SEEDS_CHECK = "web_seeds_serve_the_torrent"
ZENODO_CHECK = "zenodo_file_matches_artifact"
_FIRST_MONDAY = date(1970, 1, 5)


@dataclass(frozen=True)
class AuditFinding:
    dataset: str
    version: str
    check: str
    fixity: Fixity


@dataclass(frozen=True)
class VersionAudit:
    """What the audit found for one dataset version: what its asset checks show (keyed by check name)."""

    dataset: str
    version: str
    findings: tuple[AuditFinding, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(f.fixity.passed for f in self.findings)

    def by_check(self) -> dict[str, Fixity]:
        return {f.check: f.fixity for f in self.findings}


def audit_round(when: datetime | date | None = None) -> int:
    """The audit round of a day: weeks since the first Monday of 1970, so a weekly audit moves one window a week."""
    day = (when or datetime.now(timezone.utc))
    day = day.date() if isinstance(day, datetime) else day
    return (day - _FIRST_MONDAY).days // 7


def web_seeds_fixity(publisher: Publisher, spec: DatasetSpec, version: str, *, round_number: int | None, full: bool,
                     deadline_seconds: float | None) -> Fixity:
    torrent = load_torrent(publisher, spec, version)
    if torrent is None:
        return Fixity(False, f"{label(spec, version)}: no torrent under releases/", {})
    reports = check_web_seeds(publisher, spec, version, full=full, round_number=None if full else round_number,
                              deadline=deadline_seconds)
    cycle = audit_cycle(torrent.info, AUDIT_BUDGET_BYTES)
    failing = [r for r in reports if not r.ok]
    summary = f"{len(reports) - len(failing)} of {len(reports)} web seeds serve the torrent's pieces"
    summary += " (every piece)" if full else f" (round {round_number}: every piece within {cycle} round(s))"
    if failing:
        summary += "; failing: " + "; ".join(f"{r.url}: {r.reason}" for r in failing)
    return Fixity(bool(reports) and not failing, summary, {r.url: _report_detail(r) for r in reports} | {"round": round_number, "cycle": cycle})


def audit_version(publisher: Publisher, spec: DatasetSpec, version: str, *, round_number: int | None = None, full: bool = False,
                  deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> VersionAudit:
    round_number = audit_round() if round_number is None else round_number
    publisher.log(f"audit: {label(spec, version)}" + (" (every piece)" if full else f" (round {round_number})"))
    return VersionAudit(spec.key, version, (
        AuditFinding(spec.key, version, ZENODO_CHECK, zenodo_file_matches_artifact(publisher, spec, version, deadline_seconds=deadline_seconds)),
        AuditFinding(spec.key, version, WEB_SEEDS_CHECK, web_seeds_fixity(publisher, spec, version, round_number=round_number, full=full,
                                                                          deadline_seconds=None)),  # webseeds: grows with the bytes read
    ))


def audit_latest(publisher: Publisher, specs: Sequence[DatasetSpec], *, round_number: int | None = None, full: bool = False,
                 deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> list[VersionAudit]:
    """One VersionAudit per dataset with a latest version."""
    audits = []
    for spec in specs:
        version = current_latest(publisher, spec)
        if version is not None:
            audits.append(audit_version(publisher, spec, version, round_number=round_number, full=full, deadline_seconds=deadline_seconds))
    return audits


def audit_latest_versions(publisher: Publisher, specs: Sequence[DatasetSpec], *, full: bool = False,
                          round_number: int | None = None) -> list[AuditFinding]:
    """Every finding, flat (the audit job's table)."""
    return [finding for audit in audit_latest(publisher, specs, round_number=round_number, full=full) for finding in audit.findings]


def audit_table(findings: Sequence[AuditFinding]) -> str:
    lines = ["| dataset | version | check | result |", "| --- | --- | --- | --- |"]
    lines += [f"| {f.dataset} | {f.version} | {f.check} | {'pass' if f.fixity.passed else 'FAIL'}: {f.fixity.description} |" for f in findings]
    return "\n".join(lines)


def _report_detail(report: WebSeedReport) -> str:
    return ("ok" if report.ok else str(report.reason)) + f" (pieces checked {list(report.pieces_checked)}, failed {list(report.pieces_failed)})"
