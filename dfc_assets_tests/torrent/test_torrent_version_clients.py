"""A two-file version as the torrent step publishes it, downloaded by real clients from its web seeds only
(the store's own file server): the hybrid torrent in libtorrent, qBittorrent and aria2; the v1 torrent in
Transmission 3 and aria2, which must report the published v1 info-hash."""

import hashlib
import re
import shutil
import subprocess

import pytest

from dfc_assets.publication import torrent as torrent_step
from dfc_assets.torrent.download import download_from_web_seeds

from .clients import QBittorrent, TransmissionDaemon, aria2_download, running, wait_until
from .published_version import SPEC, PublishedVersion

VERSION = "2021"
SIZES = {"parquet": 3 * 1024 * 1024 + 321, "pmtiles": 2 * 1024 * 1024 + 77}


def needs(binary: str, package: str):
    return pytest.mark.skipif(shutil.which(binary) is None, reason=f"{binary} not installed (Debian package {package})")


@pytest.fixture(scope="module")
def version(tmp_path_factory):
    published = PublishedVersion(tmp_path_factory.mktemp("clients"), VERSION, SIZES)
    try:
        yield published, torrent_step.make_torrent(published.publisher, SPEC, VERSION)
    finally:
        published.close()


def _downloaded_every_file(folder, published) -> bool:
    return all((folder / name).is_file() and hashlib.sha256((folder / name).read_bytes()).digest()
               == hashlib.sha256(data).digest() for name, data in published.files.items())


def test_libtorrent_downloads_the_hybrid(version, tmp_path):
    published, torrent = version
    assert torrent.info.multi_file and torrent.info.infohash_v2
    got = download_from_web_seeds(torrent.data, tmp_path / "out", timeout=60)
    assert got == tmp_path / "out" / VERSION
    assert _downloaded_every_file(got, published)


@needs("qbittorrent-nox", "qbittorrent-nox")
def test_qbittorrent_downloads_the_hybrid(version, tmp_path):
    published, torrent = version
    qbt = QBittorrent(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with running(qbt.command(), qbt.log):
        wait_until(qbt.ready, 120, "qBittorrent Web API", qbt.log)
        qbt.add(torrent.data, out)
        wait_until(lambda: qbt.progress(torrent.info.infohash_v1) >= 1.0, 90, "qBittorrent to finish", qbt.log)
    assert _downloaded_every_file(out / VERSION, published)


def _aria2_info_hash(torrent_file) -> str:
    shown = subprocess.run(["aria2c", "-S", str(torrent_file)], capture_output=True, text=True, timeout=30).stdout
    return re.search(r"Info Hash: ([0-9a-f]{40})", shown)[1]


@needs("aria2c", "aria2")
def test_aria2_downloads_the_hybrid_pad_files_included(version, tmp_path):
    published, torrent = version
    path = tmp_path / "hybrid.torrent"
    path.write_bytes(torrent.data)
    rc = aria2_download(path, tmp_path / "out", tmp_path / "aria2.log")
    assert rc == 0, (tmp_path / "aria2.log").read_text()
    assert _downloaded_every_file(tmp_path / "out" / VERSION, published)


@needs("aria2c", "aria2")
def test_aria2_downloads_the_v1_torrent_under_its_published_info_hash(version, tmp_path):
    published, torrent = version
    path = tmp_path / "v1.torrent"
    path.write_bytes(torrent.v1.data)
    assert _aria2_info_hash(path) == torrent.v1.info.infohash_v1
    rc = aria2_download(path, tmp_path / "out", tmp_path / "aria2.log")
    assert rc == 0, (tmp_path / "aria2.log").read_text()
    assert _downloaded_every_file(tmp_path / "out" / VERSION, published)
    assert not (tmp_path / "out" / VERSION / ".pad").exists()


@needs("transmission-daemon", "transmission-daemon")
def test_transmission_downloads_the_v1_torrent(version, tmp_path):
    published, torrent = version
    daemon = TransmissionDaemon(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with running(daemon.command(out), tmp_path / "transmission.stdout"):
        wait_until(daemon.ready, 120, "transmission RPC", daemon.log)
        torrent_id = daemon.add(torrent.v1.data, out)
        wait_until(lambda: daemon.percent_done(torrent_id) >= 1.0, 90, "transmission to finish", daemon.log)
    assert _downloaded_every_file(out / VERSION, published)
