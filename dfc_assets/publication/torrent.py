"""Step `torrent`: the torrents of a version's files, web-seeded by releases/, Zenodo and verified mirrors.

Two torrents of the same files, each with its magnet: the main one (`keys.torrent`, hybrid v1+v2 by default) and
a v1 one (`keys.torrent_v1`) for clients that refuse or mis-hash hybrids (Transmission 3.00, aria2 1.36).

Web seeds are in BEP 19's directory form; the client appends the torrent's path:
- one file: the torrent is named after the file; bases `releases/{id}/{version}/`, Zenodo `/records/{rid}/files/`
  and each mirror's `releases/{id}/{version}/` (today's layout: single-file info-hashes unchanged);
- several files: the torrent is the folder `{version}` holding them, so the bases are `releases/{id}/` and each
  mirror's `releases/{id}/` (the client fetches `{base}{version}/{file}`). Zenodo is not a web seed there: it
  serves `/records/{rid}/files/{file}`, with no folder a client could append `{version}/{file}` to. The hybrid's
  BEP 47 pad files are written as zero-filled objects `releases/{id}/{version}/.pad/{N}`, because aria2 downloads
  pad files from web seeds like any other file.

Our own web seeds (bytes we uploaded and checked by checksum) get a quick check: every file's size, 206 to Range
and a fresh random sample of pieces. A community mirror (bytes we did not write) is listed only after every piece
it will serve was checked, within a deadline that grows with the bytes to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dfc_assets import __version__
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.dataset_lease import done_or_do
from dfc_assets.publication.progress import hashing_progress
from dfc_assets.publication.scratch import CacheMismatch, local_copy, recorded_contiguous, recorded_digests
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import LocalFolderStore, VersionKeys
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import (
    TorrentInfo, VersionTorrents, build_version_torrents, read_torrent, v1_half, version_piece_size,
    version_torrents_from_digests, with_web_seeds,
)
from dfc_assets.torrent.options import TorrentOptions
from dfc_assets.torrent.webseeds import AUDIT_BUDGET_BYTES, WebSeedReport, rotating_pieces, verify_web_seeds

OWN_WEB_SEED_SAMPLES = 3
WEB_SEED_TIMEOUT = 30.0  # seconds per request; each check's overall deadline adds its bytes at webseeds.MIN_RATE


@dataclass(frozen=True)
class PublishedTorrent:
    key: str
    url: str
    data: bytes
    info: TorrentInfo
    magnet: str
    reused: bool
    web_seed_reports: tuple[WebSeedReport, ...] = ()
    v1: PublishedTorrent | None = field(default=None)   # the v1 torrent of the same files (on the main torrent)


@dataclass(frozen=True)
class VersionFile:
    """One file of a version under releases/{id}/{version}/."""

    name: str
    key: str
    size: int | None
    sha256: str | None


def version_files(publisher: Publisher, spec: DatasetSpec, version: str) -> tuple[VersionFile, ...]:
    """The version's files in name order, from its manifest (older manifests list their one artifact)."""
    keys = publisher.keys(spec, version)
    manifest = publisher.published.manifest(spec.id, version)
    if manifest is None:
        return (VersionFile(keys.artifact_name, keys.artifact, None, None),)
    files = [VersionFile(f.name, keys.release_file(f.name), f.size, f.sha256) for f in manifest.files]
    return tuple(sorted(files, key=lambda f: f.name))


def torrent_options(publisher: Publisher, spec: DatasetSpec, version: str, doi: str) -> TorrentOptions:
    titles = " / ".join(t for t in (spec.title.en, spec.title.fr) if t)
    return TorrentOptions(
        flavour=publisher.settings.torrent_flavour,  # type: ignore[arg-type]
        trackers=publisher.settings.trackers,
        comment=f"{titles} — version {version} — https://doi.org/{doi}",
        creator=f"dfc_assets {__version__}",
    )


def web_seed_prefix(keys: VersionKeys, *, multi_file: bool = False) -> str:
    """The bucket prefix a web seed URL points at: the version folder (one file) or the dataset folder (several)."""
    return keys.release_prefix if not multi_file else f"releases/{keys.dataset_id}/"


def mirror_web_seed(base_url: str, keys: VersionKeys, *, multi_file: bool = False) -> str:
    """A community mirror of the bucket layout, in BEP 19's directory form (the client appends the torrent's path)."""
    return f"{base_url.rstrip('/')}/{web_seed_prefix(keys, multi_file=multi_file)}"


def web_seeds(
    publisher: Publisher, spec: DatasetSpec, version: str, zenodo_file_url: str | None, *, multi_file: bool = False
) -> tuple[list[str], list[str]]:
    """(ours, mirrors), all in the directory form. Zenodo is ours for a single-file version only (see above)."""
    keys = publisher.keys(spec, version)
    ours = [publisher.store.public_url(web_seed_prefix(keys, multi_file=multi_file))]
    if zenodo_file_url and not multi_file:
        ours.insert(0, zenodo_file_url.rsplit("/", 1)[0] + "/")
    mirrors = [mirror_web_seed(base, keys, multi_file=multi_file) for base in publisher.settings.mirror_base_urls]
    return ours, mirrors


def configured_mirrors(publisher: Publisher, spec: DatasetSpec, version: str, info: TorrentInfo) -> list[str]:
    """Every configured community mirror as a web seed of this version's torrent (status and verify check them)."""
    keys = publisher.keys(spec, version)
    return [mirror_web_seed(base, keys, multi_file=info.multi_file) for base in publisher.settings.mirror_base_urls]


def check_web_seeds(
    publisher: Publisher, spec: DatasetSpec, version: str, *, full: bool = False, round_number: int | None = None,
    budget_bytes: int = AUDIT_BUDGET_BYTES, with_configured: bool = True, deadline: float | None = None,
) -> list[WebSeedReport]:
    """Every web seed of the version's main torrent (plus each configured mirror not listed), checked at once.

    Pieces: all with `full` (verify); the audit's rotating window with `round_number` (rounds 0 ..
    audit_cycle(info, budget_bytes) - 1 cover every piece); else a fresh random sample (status). `deadline`
    bounds each web seed's check (default: grows with the bytes read, see webseeds.default_deadline).
    """
    torrent = load_torrent(publisher, spec, version)
    if torrent is None:
        return []
    urls = list(torrent.info.web_seeds)
    if with_configured:
        urls = list(dict.fromkeys([*urls, *configured_mirrors(publisher, spec, version, torrent.info)]))
    pieces = rotating_pieces(torrent.info, round_number, budget_bytes=budget_bytes) if round_number is not None else None
    return verify_web_seeds(torrent.info, urls, full=full, pieces=pieces, timeout=WEB_SEED_TIMEOUT, deadline=deadline)


def _published(publisher: Publisher, key: str, data: bytes, *, reused: bool, reports: tuple[WebSeedReport, ...] = (),
               v1: PublishedTorrent | None = None) -> PublishedTorrent:
    info = read_torrent(data)
    url = publisher.store.public_url(key)
    magnet = magnet_uri(info, torrent_url=url, peer=publisher.settings.seeder_peer)  # type: ignore[arg-type]
    return PublishedTorrent(key, url, data, info, magnet, reused, reports, v1)


def load_torrent(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedTorrent | None:
    """The version's main torrent (its `.v1` the v1 torrent, once published), or None before the torrent step."""
    main = publisher.published.torrent(spec.id, version)
    if main is None:
        return None
    v1_file = publisher.published.torrent(spec.id, version, v1=True)
    v1 = _published(publisher, v1_file.key, v1_file.data, reused=True) if v1_file is not None else None
    return _published(publisher, main.key, main.data, reused=True, v1=v1)


def make_torrent(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedTorrent:
    """Publish both torrents of the version (each write-once); returns the main one with `.v1` set.

    One publisher of the dataset at a time (``dataset_lease``): a second one waits, then finds both torrents."""
    seen: list[PublishedTorrent | None] = [None]  # what the last look found: the work needs it, not a third read

    def published() -> PublishedTorrent | None:
        existing = seen[0] = load_torrent(publisher, spec, version)
        if existing is not None and existing.v1 is not None:
            publisher.log(f"{label(spec, version)}: torrents already published (btih {existing.info.infohash_v1}, v1 {existing.v1.info.infohash_v1}); keeping them")
            return existing
        return None

    return done_or_do(publisher, spec, version, "torrent", published, lambda: _build_and_publish(publisher, spec, version, seen[0]))


def _build_and_publish(publisher: Publisher, spec: DatasetSpec, version: str, existing: PublishedTorrent | None) -> PublishedTorrent:
    """``existing``: a main torrent without its v1 half (published before v1 existed), or None."""
    keys = publisher.keys(spec, version)
    if existing is not None and not existing.info.multi_file:
        # published before v1 torrents existed: its v1 half needs no reading of the file
        v1_data = v1_half(existing.data)
        publisher.store.put_bytes(keys.torrent_v1, v1_data, if_absent=True)
        publisher.log(f"{label(spec, version)}: v1 torrent {keys.torrent_v1} added beside the published one")
        return _published(publisher, keys.torrent, existing.data, reused=True,
                          v1=_published(publisher, keys.torrent_v1, v1_data, reused=False))
    record = published_record(publisher, spec, version)
    if record is None:
        raise PublicationError(f"{label(spec, version)}: not yet published on Zenodo; materialize zenodo_record first")
    files = version_files(publisher, spec, version)
    zenodo_files = {f.key: f for f in record.files}
    missing = [f.name for f in files if f.name not in zenodo_files]
    if missing:
        raise PublicationError(f"{label(spec, version)}: Zenodo record {record.record_id} lacks {', '.join(missing)}; the torrent must hold exactly the published files")
    multi_file = len(files) > 1
    options = torrent_options(publisher, spec, version, record.doi)
    built = recorded_torrents(files, folder=version, options=options)
    if built is not None:
        publisher.log(f"{label(spec, version)}: torrents from the hashes recorded when the files were stored (no file read)")
    else:  # another host, or files stored before hashes were recorded: read each file once
        built = build_version_torrents(
            _local_copies(publisher, spec, version, files), folder=version, options=options,
            progress=hashing_progress(publisher.log, label(spec, version)), sha256=False,  # md5 is what Zenodo holds
        )
    for f, digests in zip(files, built.digests.files):
        expected = zenodo_files[f.name].md5
        if digests.md5 != expected:
            raise PublicationError(f"{label(spec, version)}: Zenodo holds md5 {expected} for {f.name}, the file under releases/ has {digests.md5}; not publishing a torrent over different bytes")
    main_info = read_torrent(built.main.data)
    prefix = web_seed_prefix(keys, multi_file=multi_file)
    for pad in (f for f in main_info.files if f.pad):
        publisher.store.put_bytes(prefix + pad.path, bytes(pad.size), if_absent=True)
    zenodo_url = zenodo_files[files[0].name].url
    ours, mirrors = web_seeds(publisher, spec, version, zenodo_url, multi_file=multi_file)
    own_reports = verify_web_seeds(main_info, ours, samples=OWN_WEB_SEED_SAMPLES, timeout=WEB_SEED_TIMEOUT)
    mirror_reports = verify_web_seeds(main_info, mirrors, full=True, timeout=WEB_SEED_TIMEOUT)
    reports = own_reports + mirror_reports
    for report in reports:
        checked = len(report.pieces_checked)
        publisher.log(f"{label(spec, version)}: web seed {report.url}: {'verified' if report.ok else 'LEFT OUT: ' + str(report.reason)} ({checked} of {main_info.num_pieces} pieces checked)")
    failed_own = [r for r in own_reports if not r.ok]
    if failed_own:
        raise PublicationError(f"{label(spec, version)}: our own web seed does not serve the version's files, so no torrent is published: " + "; ".join(f"{r.url}: {r.reason}" for r in failed_own))
    good = [r.url for r in reports if r.ok]
    main_data = existing.data if existing is not None else with_web_seeds(built.main.data, good)
    v1_data = with_web_seeds(built.v1.data, read_torrent(main_data).web_seeds)
    publisher.store.put_bytes(keys.torrent_v1, v1_data, if_absent=True)  # the main torrent last: it marks the step done
    publisher.store.put_bytes(keys.torrent, main_data, if_absent=True)
    publisher.log(f"{label(spec, version)}: torrents {keys.torrent} (btih {built.main.infohash_v1}, btmh {built.main.infohash_v2}) and {keys.torrent_v1} (btih {built.v1.infohash_v1}); {len(files)} file(s), {built.main.data_size} bytes")
    v1 = _published(publisher, keys.torrent_v1, v1_data, reused=False, reports=tuple(reports))
    return _published(publisher, keys.torrent, main_data, reused=existing is not None, reports=tuple(reports), v1=v1)


def recorded_torrents(files: tuple[VersionFile, ...], *, folder: str, options: TorrentOptions) -> VersionTorrents | None:
    """Both torrents from the hashes this host recorded while it stored the files (`publication.scratch`), or None
    when any is missing here."""
    if any(f.size is None or f.sha256 is None for f in files):
        return None
    piece_size = version_piece_size([f.size for f in files], options)  # type: ignore[misc]
    named = []
    for f in files:
        digests = recorded_digests(f.sha256, f.size, piece_size, v2=options.flavour == "hybrid")  # type: ignore[arg-type]
        if digests is None:
            return None
        named.append((f.name, digests))
    contiguous = None
    if len(files) > 1:
        contiguous = recorded_contiguous([(f.name, f.sha256) for f in files], piece_size)  # type: ignore[misc]
        if contiguous is None:
            return None
    return version_torrents_from_digests(named, folder=folder, options=options, contiguous_v1=contiguous)


def _local_copies(publisher: Publisher, spec: DatasetSpec, version: str, files: tuple[VersionFile, ...]) -> list[Path]:
    """The files on local disk: read in place from a local-folder store, else downloaded once into the work dir."""
    store = publisher.store
    if isinstance(store, LocalFolderStore):
        paths = [store.root / f.key for f in files]
    else:  # from the host's cache (the parquet step left them there), else downloaded once into it
        workdir = publisher.work_dir(spec, version, "torrent")
        paths = [_cached_copy(publisher, spec, version, f, workdir) for f in files]
    for f, path in zip(files, paths):
        if not path.is_file():
            raise PublicationError(f"{label(spec, version)}: {f.key} is not in the store; materialize parquet first")
        if f.size is not None and path.stat().st_size != f.size:
            raise PublicationError(f"{label(spec, version)}: {f.key} has {path.stat().st_size} bytes, the manifest says {f.size}")
    return paths


def _cached_copy(publisher: Publisher, spec: DatasetSpec, version: str, f: VersionFile, workdir: Path) -> Path:
    if f.size is None or f.sha256 is None:
        return publisher.store.download(f.key, workdir / f.name)
    try:
        path, _ = local_copy(f.name, f.size, f.sha256, workdir, lambda incoming: publisher.store.download(f.key, incoming))
    except CacheMismatch as error:
        raise PublicationError(f"{label(spec, version)}: {f.key}: {error}") from None
    return path
