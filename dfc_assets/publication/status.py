"""What an operator asks of a deployment: which versions are published, with which DOI, and do the mirrors serve them.

Plain functions over the object store (the source of truth: every published version leaves its manifest,
Zenodo record and torrent under releases/); `dfc status`, `dfc versions` and `dfc verify` print them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.latest import current_latest
from dfc_assets.publication.torrent import load_torrent, mirror_web_seed
from dfc_assets.publication.verify import Fixity, archive_matches_its_index, artifact_matches_manifest, web_seeds_serve_the_torrent, zenodo_file_matches_artifact
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import VersionKeys
from dfc_assets.torrent.webseeds import WebSeedReport, verify_web_seeds
from dfc_assets.versions import InvalidVersionKey, sort_versions

Progress = Callable[[str], None]
"""Called once before each verification step with what is about to be checked."""


@dataclass(frozen=True)
class VersionStatus:
    dataset: str                 # registry key
    dataset_id: str
    version: str
    doi: str | None
    concept_doi: str | None
    zenodo_record_url: str | None
    sha256: str | None
    size: int | None
    rows: int | None
    torrent_url: str | None
    infohash_v1: str | None
    web_seeds: tuple[str, ...]
    is_latest: bool

    @property
    def fully_published(self) -> bool:
        return self.doi is not None and self.torrent_url is not None and self.sha256 is not None

    @property
    def state(self) -> str:
        if self.fully_published:
            return "published"
        if self.sha256 is None:
            return "no artifact"
        return "artifact only" if self.doi is None else "no torrent"


@dataclass(frozen=True)
class MirrorHealth:
    url: str
    ok: bool
    reason: str | None


@dataclass(frozen=True)
class DatasetStatus:
    dataset: str
    dataset_id: str
    versions: int
    latest: VersionStatus | None
    mirrors: tuple[MirrorHealth, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.latest is not None and self.latest.fully_published and all(m.ok for m in self.mirrors)


@dataclass(frozen=True)
class VersionVerification:
    dataset: str
    version: str
    checks: tuple[tuple[str, Fixity], ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(fixity.passed for _, fixity in self.checks)


def published_versions(publisher: Publisher, spec: DatasetSpec) -> list[str]:
    """Every version with anything under releases/{id}/, in release order."""
    prefix = f"releases/{spec.id}/"
    found = set()
    for info in publisher.store.list(prefix):
        version = info.key[len(prefix):].split("/", 1)[0]
        try:
            VersionKeys(spec.id, version)
        except InvalidVersionKey:
            continue
        found.add(version)
    return sort_versions(found)


def version_status(publisher: Publisher, spec: DatasetSpec, version: str, *, latest: str | None = None) -> VersionStatus:
    keys = VersionKeys(spec.id, version)
    manifest = publisher.read_json(keys.manifest) or {}
    output = manifest.get("output", {})
    record = published_record(publisher, spec, version)
    torrent = load_torrent(publisher, spec, version)
    return VersionStatus(
        dataset=spec.key, dataset_id=spec.id, version=version,
        doi=record.doi if record else None, concept_doi=record.concept_doi if record else None,
        zenodo_record_url=record.record_url if record else None,
        sha256=output.get("sha256") if publisher.store.head(keys.artifact) is not None else None,
        size=int(output["size"]) if "size" in output else None, rows=int(output["rows"]) if "rows" in output else None,
        torrent_url=torrent.url if torrent else None, infohash_v1=torrent.info.infohash_v1 if torrent else None,
        web_seeds=tuple(torrent.info.web_seeds) if torrent else (), is_latest=version == latest,
    )


def dataset_versions(publisher: Publisher, spec: DatasetSpec) -> list[VersionStatus]:
    latest = current_latest(publisher, spec)
    return [version_status(publisher, spec, version, latest=latest) for version in published_versions(publisher, spec)]


def mirror_health(publisher: Publisher, spec: DatasetSpec, version: str, *, samples: int = 3) -> tuple[MirrorHealth, ...]:
    """Every web seed of the version's torrent plus every configured community mirror: size, Range and sampled pieces."""
    torrent = load_torrent(publisher, spec, version)
    if torrent is None:
        return ()
    reports = verify_web_seeds(torrent.data, candidate_mirrors(publisher, spec, version, torrent.info.web_seeds), samples=samples)
    return tuple(_health(report) for report in reports)


def candidate_mirrors(publisher: Publisher, spec: DatasetSpec, version: str, listed: Sequence[str]) -> list[str]:
    keys = VersionKeys(spec.id, version)
    configured = [mirror_web_seed(base, keys) for base in publisher.settings.mirror_base_urls]
    return list(dict.fromkeys([*listed, *configured]))


def dataset_status(publisher: Publisher, spec: DatasetSpec, *, check_mirrors: bool = True) -> DatasetStatus:
    versions = published_versions(publisher, spec)
    latest = current_latest(publisher, spec) or (versions[-1] if versions else None)
    if latest is None:
        return DatasetStatus(spec.key, spec.id, 0, None)
    status = version_status(publisher, spec, latest, latest=latest)
    mirrors = mirror_health(publisher, spec, latest) if check_mirrors else ()
    return DatasetStatus(spec.key, spec.id, len(versions), status, mirrors)


def verify_version(publisher: Publisher, spec: DatasetSpec, version: str, *, progress: Progress = lambda step: None) -> VersionVerification:
    """All hashes and all mirrors of one version: the artifact against its manifest, the Zenodo file against the
    artifact, and every piece of the torrent on every web seed and configured mirror."""
    if version not in published_versions(publisher, spec):
        raise LookupError(f"{label(spec, version)} is not published: nothing under releases/{spec.id}/{version}/ "
                          f"(published versions: {', '.join(published_versions(publisher, spec)) or 'none'})")
    checks: list[tuple[str, Fixity]] = []
    for name, check in (("archive_matches_its_index", archive_matches_its_index), ("artifact_matches_manifest", artifact_matches_manifest),
                        ("zenodo_file_matches_artifact", zenodo_file_matches_artifact)):
        progress(name)
        checks.append((name, check(publisher, spec, version)))
    progress("web_seeds_serve_the_torrent")
    checks.append(("web_seeds_serve_the_torrent", web_seeds_serve_the_torrent(publisher, spec, version, full=True)))
    torrent = load_torrent(publisher, spec, version)
    if torrent is not None:
        unlisted = [url for url in candidate_mirrors(publisher, spec, version, torrent.info.web_seeds) if url not in torrent.info.web_seeds]
        for url in unlisted:
            progress(f"mirror {url}")
            (report,) = verify_web_seeds(torrent.data, [url], full=True)
            checks.append((f"mirror {url}", Fixity(report.ok, _report_text(report), {"url": url})))
    return VersionVerification(spec.key, version, tuple(checks))


def verification_steps(publisher: Publisher, spec: DatasetSpec, version: str) -> int:
    """How many times verify_version will call ``progress`` (for a progress bar's total)."""
    torrent = load_torrent(publisher, spec, version)
    extra = 0
    if torrent is not None:
        extra = len([u for u in candidate_mirrors(publisher, spec, version, torrent.info.web_seeds) if u not in torrent.info.web_seeds])
    return 4 + extra


def _health(report: WebSeedReport) -> MirrorHealth:
    return MirrorHealth(report.url, report.ok, report.reason)


def _report_text(report: WebSeedReport) -> str:
    if report.ok:
        return f"serves all {len(report.pieces_checked)} pieces of the torrent"
    return f"does not serve the torrent: {report.reason}"
