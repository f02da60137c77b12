"""Step `torrent`: a single-file torrent of the artifact, web-seeded by Zenodo and releases/, and its magnet URI."""

from __future__ import annotations

from dataclasses import dataclass

from dfc_assets import __version__
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.progress import hashing_progress
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import TorrentInfo, build_torrent, read_torrent
from dfc_assets.torrent.options import TorrentOptions


@dataclass(frozen=True)
class PublishedTorrent:
    key: str
    url: str
    data: bytes
    info: TorrentInfo
    magnet: str
    reused: bool


def torrent_options(publisher: Publisher, spec: DatasetSpec, version: str, doi: str) -> TorrentOptions:
    titles = " / ".join(t for t in (spec.title.en, spec.title.fr) if t)
    return TorrentOptions(
        flavour=publisher.settings.torrent_flavour,  # type: ignore[arg-type]
        trackers=publisher.settings.trackers,
        comment=f"{titles} — version {version} — https://doi.org/{doi}",
        creator=f"dfc_assets {__version__}",
    )


def web_seeds(publisher: Publisher, spec: DatasetSpec, version: str, zenodo_file_url: str) -> list[str]:
    keys = publisher.keys(spec, version)
    seeds = [zenodo_file_url, publisher.store.public_url(keys.artifact)]
    seeds += [f"{base.rstrip('/')}/{keys.artifact}" for base in publisher.settings.mirror_base_urls]
    return seeds


def _published(publisher: Publisher, spec: DatasetSpec, version: str, data: bytes, *, reused: bool) -> PublishedTorrent:
    keys = publisher.keys(spec, version)
    info = read_torrent(data)
    url = publisher.store.public_url(keys.torrent)
    magnet = magnet_uri(info, torrent_url=url, peer=publisher.settings.seeder_peer)  # type: ignore[arg-type]
    return PublishedTorrent(keys.torrent, url, data, info, magnet, reused)


def load_torrent(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedTorrent | None:
    keys = publisher.keys(spec, version)
    try:
        data = publisher.store.get_bytes(keys.torrent)
    except KeyError:
        return None
    return _published(publisher, spec, version, data, reused=True)


def make_torrent(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedTorrent:
    existing = load_torrent(publisher, spec, version)
    if existing is not None:
        publisher.log(f"{label(spec, version)}: torrent already published (btih {existing.info.infohash_v1}); keeping it")
        return existing
    keys = publisher.keys(spec, version)
    record = published_record(publisher, spec, version)
    if record is None:
        raise PublicationError(f"{label(spec, version)}: not yet published on Zenodo; materialize zenodo_record first")
    zenodo_file = next((f for f in record.files if f.key == keys.artifact_name), None)
    if zenodo_file is None:
        raise PublicationError(f"{label(spec, version)}: Zenodo record {record.record_id} has no file {keys.artifact_name}")
    workdir = publisher.work_dir(spec, version, "torrent")
    path = publisher.store.download(keys.artifact, workdir / keys.artifact_name)
    total = path.stat().st_size
    torrent = build_torrent(
        path, name=keys.artifact_name, options=torrent_options(publisher, spec, version, record.doi),
        web_seeds=web_seeds(publisher, spec, version, zenodo_file.url), progress=hashing_progress(publisher.log, label(spec, version)),
    )
    if torrent.md5 != zenodo_file.md5:
        raise PublicationError(f"{label(spec, version)}: Zenodo holds md5 {zenodo_file.md5} for {keys.artifact_name}, the artifact has {torrent.md5}; not publishing a torrent over different bytes")
    publisher.store.put_bytes(keys.torrent, torrent.data, if_absent=True)
    publisher.log(f"{label(spec, version)}: torrent {keys.torrent} ({total} bytes seeded, btih {torrent.infohash_v1}, btmh {torrent.infohash_v2})")
    return _published(publisher, spec, version, torrent.data, reused=False)
