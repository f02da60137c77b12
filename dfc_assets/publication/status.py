"""What an operator asks of a deployment: which versions are published, with which DOI, and do the mirrors serve them.

Plain functions over the object store (the source of truth: every published version leaves its manifest,
Zenodo record and torrent under releases/); `dfc status`, `dfc versions` and `dfc verify` print them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

import pyarrow.parquet as pq

from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.latest import current_latest
from dfc_assets.publication.torrent import check_web_seeds, load_torrent, mirror_web_seed
from dfc_assets.publication.verify import Fixity, archive_matches_its_index, artifact_matches_manifest, web_seeds_serve_the_torrent, zenodo_file_matches_artifact
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import CATALOG, TORRENT_FEED, VersionKeys
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


def mirror_health(publisher: Publisher, spec: DatasetSpec, version: str) -> tuple[MirrorHealth, ...]:
    """Every web seed of the version's torrent plus every configured community mirror: size, Range and a fresh
    random sample of pieces each time (so repeated checks cover different pieces), each within its deadline."""
    return tuple(_health(report) for report in check_web_seeds(publisher, spec, version))


@dataclass(frozen=True)
class CatalogLag:
    """What the catalog and the torrent feed miss of what releases/ and processed/ hold."""

    missing_items: tuple[str, ...] = ()       # items published under releases/ that the catalog lacks
    stale_latest: tuple[str, ...] = ()        # datasets whose processed/ version is not the catalog's latest
    missing_torrents: tuple[str, ...] = ()    # published torrents (v1 info-hash) the feed lacks
    problems: tuple[str, ...] = ()            # catalog or feed missing or unreadable

    @property
    def ok(self) -> bool:
        return not (self.missing_items or self.stale_latest or self.missing_torrents or self.problems)

    def lines(self) -> list[str]:
        if self.ok:
            return ["catalog and torrent feed up to date with releases/ and processed/"]
        out = [f"catalog LAGS: {problem}" for problem in self.problems]
        out += [f"catalog LAGS: item {item} is published under releases/ but not in {CATALOG}" for item in self.missing_items]
        out += [f"catalog LAGS: {entry}" for entry in self.stale_latest]
        out += [f"feed LAGS: torrent {infohash} is published but not in {TORRENT_FEED}" for infohash in self.missing_torrents]
        return out


def catalog_lag(publisher: Publisher, specs: Sequence[DatasetSpec]) -> CatalogLag:
    """Compare catalog/dfc-catalog.parquet and feeds/torrents.xml with releases/ (items, torrents) and processed/."""
    expected_items: dict[str, tuple[DatasetSpec, str]] = {}
    expected_torrents: dict[str, str] = {}
    latest: dict[str, str] = {}
    for spec in specs:
        for version in published_versions(publisher, spec):
            keys = VersionKeys(spec.id, version)
            if publisher.store.head(keys.stac_item) is not None:
                expected_items[f"{spec.id}_{version}"] = (spec, version)
                torrent = load_torrent(publisher, spec, version)
                if torrent is not None and torrent.info.infohash_v1:
                    expected_torrents[torrent.info.infohash_v1] = f"{spec.key} {version}"
        if (version := current_latest(publisher, spec)) is not None:
            latest[spec.id] = version
    problems: list[str] = []
    rows: dict[str, bool] = {}
    if expected_items or latest:
        try:
            local = publisher.store.download(CATALOG, publisher.scratch / "status" / "catalog.parquet")
            table = pq.read_table(local, columns=["id", "deprecated"])
            rows = dict(zip(table.column("id").to_pylist(), table.column("deprecated").to_pylist()))
        except KeyError:
            problems.append(f"no {CATALOG} although {len(expected_items)} item(s) are published")
        except Exception as error:  # noqa: BLE001 - any unreadable catalog is a finding, not a crash
            problems.append(f"{CATALOG} cannot be read: {type(error).__name__}: {error}")
    missing = tuple(sorted(item for item in expected_items if item not in rows)) if not problems else ()
    stale = tuple(
        f"processed/ serves {spec_id} version {version}, which the catalog " + ("lacks" if f"{spec_id}_{version}" not in rows else "marks deprecated")
        for spec_id, version in sorted(latest.items()) if not problems and rows.get(f"{spec_id}_{version}", True) is not False
    )
    feed_missing: tuple[str, ...] = ()
    if expected_torrents:
        try:
            feed = ElementTree.fromstring(publisher.store.get_bytes(TORRENT_FEED))
            listed = {guid.text for guid in feed.iter("guid")}
            feed_missing = tuple(sorted(h for h in expected_torrents if h not in listed))
        except KeyError:
            problems.append(f"no {TORRENT_FEED} although {len(expected_torrents)} torrent(s) are published")
        except ElementTree.ParseError as error:
            problems.append(f"{TORRENT_FEED} cannot be read: {error}")
    return CatalogLag(missing, stale, feed_missing, tuple(problems))


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
