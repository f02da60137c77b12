"""Peers on loopback: a magnet with x.pe downloads from our seeder; two peers meet through a local tracker.
Each session gets its own 127.0.0.N (a session that dials its own address bans it, reference §4.4)."""

import hashlib
import random
import shutil
import socket

import pytest

from dfc_assets.torrent.download import MagnetDownloadError, download_magnet
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import build_torrent
from dfc_assets.torrent.options import KIB, TorrentOptions
from dfc_assets.torrent.seeder import Seeder

from .clients import free_port, running, wait_until

NAME = "ds_2025-06-11.parquet"


@pytest.fixture()
def published(tmp_path):
    seed_dir = tmp_path / "seed"
    seed_dir.mkdir()
    (seed_dir / NAME).write_bytes(random.Random(9).randbytes(5 * 1024 * 1024 + 17))
    return seed_dir


@pytest.mark.parametrize("flavour", ["hybrid", "v1"])
def test_magnet_with_x_pe_downloads_from_the_seeder(published, tmp_path, flavour):
    built = build_torrent(published / NAME, name=NAME, options=TorrentOptions(flavour=flavour, piece_size=256 * KIB))
    with Seeder("127.0.0.1:0", discovery=False) as seeder:
        seeder.add(built.data, published)
        uri = magnet_uri(built, peer=seeder.peer)
        got = download_magnet(uri, tmp_path / "out", listen="127.0.0.2:0", timeout=60)
        # libtorrent's transfer counters catch up with the last pieces a moment later
        wait_until(lambda: seeder.status()[0].uploaded >= built.size, 30, "the seeder to count every byte it uploaded")
        (status,) = seeder.status()
    assert hashlib.sha256(got.read_bytes()).hexdigest() == built.sha256
    assert status.uploaded >= built.size and status.error is None


def test_seeder_refuses_a_missing_file(tmp_path, published):
    built = build_torrent(published / NAME, name=NAME, options=TorrentOptions())
    with Seeder("127.0.0.1:0", discovery=False) as seeder, pytest.raises(FileNotFoundError, match=NAME):
        seeder.add(built.data, tmp_path / "elsewhere")


def test_magnet_without_reachable_peers_fails_clearly(published, tmp_path):
    built = build_torrent(published / NAME, name=NAME, options=TorrentOptions())
    uri = magnet_uri(built, peer=f"127.0.0.1:{free_port()}")
    with pytest.raises(MagnetDownloadError, match="x.pe"):
        download_magnet(uri, tmp_path / "out", listen="127.0.0.2:0", timeout=3)


@pytest.mark.skipif(shutil.which("opentracker") is None, reason="opentracker not installed (Debian package opentracker)")
def test_two_peers_exchange_through_a_local_tracker(published, tmp_path):
    port = free_port()
    announce = f"http://127.0.0.1:{port}/announce"
    built = build_torrent(
        published / NAME, name=NAME, options=TorrentOptions(piece_size=256 * KIB, trackers=(announce,))
    )
    # Debian's opentracker only tracks whitelisted hashes; a hybrid announces v1 and the truncated v2 hash
    # opentracker chroots into -d and then reads the whitelist as user nobody
    jail = tmp_path / "tracker"
    jail.mkdir(mode=0o755)
    jail.chmod(0o755)
    whitelist = jail / "whitelist.txt"
    whitelist.write_text(f"{built.infohash_v1}\n{built.infohash_v2[:40]}\n")
    whitelist.chmod(0o644)
    cmd = ["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port), "-d", str(jail), "-w", whitelist.name]
    with running(cmd, tmp_path / "opentracker.log"):
        # a seeder that announces before the tracker listens tries again only after a back-off of several seconds
        wait_until(lambda: tracker_listens(port), 60, "opentracker to listen", tmp_path / "opentracker.log")
        with Seeder("127.0.0.3:0", discovery=False) as seeder:
            seeder.add(built.data, published)
            uri = magnet_uri(built)  # only tr=: the peer is found through the tracker
            got = download_magnet(uri, tmp_path / "out", listen="127.0.0.2:0", timeout=60)
    assert hashlib.sha256(got.read_bytes()).hexdigest() == built.sha256


def tracker_listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False
