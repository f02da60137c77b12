"""Real BitTorrent clients download our torrents from web seeds only (Debian: aria2, transmission-daemon,
qbittorrent-nox). Each test is skipped, with the package to install, when its client is missing."""

import hashlib
import random
import shutil
from urllib.parse import quote

import pytest

from dfc_assets.torrent.metainfo import build_torrent
from dfc_assets.torrent.options import KIB, TorrentOptions

from .clients import QBittorrent, TransmissionDaemon, aria2_download, running, wait_until
from .range_server import RangeServer

NAME = "ds 2025-06-11 é+x.parquet"
SIZE = 6 * 1024 * 1024 + 4321


def needs(binary: str, package: str):
    return pytest.mark.skipif(shutil.which(binary) is None, reason=f"{binary} not installed (Debian package {package})")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    (root / "releases").mkdir()
    (root / "releases" / NAME).write_bytes(random.Random(5).randbytes(SIZE))
    with RangeServer(root) as server:
        yield root / "releases" / NAME, server


def _torrent(mirror, flavour: str, form: str = "directory"):
    source, server = mirror
    seed = server.url + "releases/" + ("" if form == "directory" else quote(NAME))
    return build_torrent(source, name=NAME, options=TorrentOptions(flavour=flavour, piece_size=256 * KIB), web_seeds=[seed])


def _same_bytes(path, built) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == built.sha256


@needs("aria2c", "aria2")
@pytest.mark.parametrize("flavour", ["hybrid", "v1"])
def test_aria2_downloads_from_web_seed(mirror, tmp_path, flavour):
    built = _torrent(mirror, flavour)
    torrent = tmp_path / "t.torrent"
    torrent.write_bytes(built.data)
    rc = aria2_download(torrent, tmp_path / "out", tmp_path / "aria2.log")
    assert rc == 0, (tmp_path / "aria2.log").read_text()
    assert _same_bytes(tmp_path / "out" / NAME, built)


@needs("transmission-daemon", "transmission-daemon")
@pytest.mark.parametrize("form", ["directory", "file"])
def test_transmission_downloads_v1_from_web_seed(mirror, tmp_path, form):
    # Transmission 3.00 (Debian 12) rejects hybrid torrents, so it gets the v1 flavour
    built = _torrent(mirror, "v1", form)
    daemon = TransmissionDaemon(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with running(daemon.command(out), tmp_path / "transmission.stdout"):
        wait_until(daemon.ready, 20, "transmission RPC", daemon.log)
        torrent_id = daemon.add(built.data, out)
        wait_until(lambda: daemon.percent_done(torrent_id) >= 1.0, 60, "transmission to finish", daemon.log)
    assert _same_bytes(out / NAME, built)


@needs("qbittorrent-nox", "qbittorrent-nox")
def test_qbittorrent_downloads_hybrid_from_web_seed(mirror, tmp_path):
    built = _torrent(mirror, "hybrid")
    qbt = QBittorrent(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with running(qbt.command(), qbt.log):
        wait_until(qbt.ready, 30, "qBittorrent Web API", qbt.log)
        qbt.add(built.data, out)
        wait_until(lambda: qbt.progress(built.infohash_v1) >= 1.0, 60, "qBittorrent to finish", qbt.log)
    assert _same_bytes(out / NAME, built)
