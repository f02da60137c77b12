"""Step `torrent`: a single-file torrent of the artifact, web-seeded by Zenodo and releases/, and its magnet URI."""

from __future__ import annotations

from dataclasses import dataclass

from dfc_assets import __version__
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.progress import hashing_progress
from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.scratch import local_release_file
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import VersionKeys
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import TorrentInfo, build_torrent, read_torrent
from dfc_assets.torrent.options import TorrentOptions
from dfc_assets.torrent.webseeds import WebSeedReport, with_verified_web_seeds


@dataclass(frozen=True)
class PublishedTorrent:
    key: str
    url: str
    data: bytes
    info: TorrentInfo
    magnet: str
    reused: bool
    web_seed_reports: tuple[WebSeedReport, ...] = ()


def torrent_options(publisher: Publisher, spec: DatasetSpec, version: str, doi: str) -> TorrentOptions:
    titles = " / ".join(t for t in (spec.title.en, spec.title.fr) if t)
    return TorrentOptions(
        flavour=publisher.settings.torrent_flavour,  # type: ignore[arg-type]
        trackers=publisher.settings.trackers,
        comment=f"{titles} — version {version} — https://doi.org/{doi}",
        creator=f"dfc_assets {__version__}",
    )


def mirror_web_seed(base_url: str, keys: VersionKeys) -> str:
    """A community mirror of the bucket layout, in BEP 19's directory form (the client appends the torrent's name)."""
    return f"{base_url.rstrip('/')}/{keys.release_prefix}"


def web_seeds(publisher: Publisher, spec: DatasetSpec, version: str, zenodo_file_url: str) -> tuple[list[str], list[str]]:
    """(ours, mirrors), all in the directory form: every one serves the file under the torrent's name.

    Zenodo and our releases/ URL must serve the bytes; a failing community mirror is left out.
    """
    keys = publisher.keys(spec, version)
    ours = [zenodo_file_url.rsplit("/", 1)[0] + "/", publisher.store.public_url(keys.release_prefix)]
    mirrors = [mirror_web_seed(base, keys) for base in publisher.settings.mirror_base_urls]
    return ours, mirrors


def _published(publisher: Publisher, spec: DatasetSpec, version: str, data: bytes, *, reused: bool, reports: tuple[WebSeedReport, ...] = ()) -> PublishedTorrent:
    keys = publisher.keys(spec, version)
    info = read_torrent(data)
    url = publisher.store.public_url(keys.torrent)
    magnet = magnet_uri(info, torrent_url=url, peer=publisher.settings.seeder_peer)  # type: ignore[arg-type]
    return PublishedTorrent(keys.torrent, url, data, info, magnet, reused, reports)


def load_torrent(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedTorrent | None:
    torrent = publisher.published.torrent(spec.id, version)
    return _published(publisher, spec, version, torrent.data, reused=True) if torrent is not None else None


def make_torrent(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedTorrent:
    existing = load_torrent(publisher, spec, version)
    if existing is not None:
        publisher.log(f"{label(spec, version)}: torrent already published (btih {existing.info.infohash_v1}); keeping it")
        return existing
    keys = publisher.keys(spec, version)
    record = published_record(publisher, spec, version)
    if record is None:
        raise PublicationError(f"{label(spec, version)}: not yet published on Zenodo; materialize zenodo_record first")
    artifact = load_artifact(publisher, spec, version)
    if artifact is None:
        raise PublicationError(f"{label(spec, version)}: no artifact under {keys.release_prefix}; materialize parquet first")
    name = artifact.manifest.primary.name
    zenodo_file = next((f for f in record.files if f.key == name), None)
    if zenodo_file is None:
        raise PublicationError(f"{label(spec, version)}: Zenodo record {record.record_id} has no file {name}")
    workdir = publisher.work_dir(spec, version, "torrent")
    path = local_release_file(publisher, spec, version, artifact.manifest.primary, workdir)
    total = path.stat().st_size
    ours, mirrors = web_seeds(publisher, spec, version, zenodo_file.url)
    built = build_torrent(
        path, name=name, options=torrent_options(publisher, spec, version, record.doi),
        progress=hashing_progress(publisher.log, label(spec, version)), sha256=False,  # md5 is what Zenodo holds
    )
    if built.md5 != zenodo_file.md5:
        raise PublicationError(f"{label(spec, version)}: Zenodo holds md5 {zenodo_file.md5} for {name}, the artifact has {built.md5}; not publishing a torrent over different bytes")
    torrent, reports = with_verified_web_seeds(built, ours + mirrors)
    for report in reports:
        publisher.log(f"{label(spec, version)}: web seed {report.url}: {'verified' if report.ok else 'LEFT OUT: ' + str(report.reason)} (pieces checked {list(report.pieces_checked)})")
    own = [r for r in reports if r.url in ours and not r.ok]
    if own:
        raise PublicationError(f"{label(spec, version)}: our own web seed does not serve the artifact, so no torrent is published: " + "; ".join(f"{r.url}: {r.reason}" for r in own))
    publisher.store.put_bytes(keys.torrent, torrent.data, if_absent=True)
    publisher.log(f"{label(spec, version)}: torrent {keys.torrent} ({total} bytes seeded, btih {torrent.infohash_v1}, btmh {torrent.infohash_v2})")
    return _published(publisher, spec, version, torrent.data, reused=False, reports=tuple(reports))
