import hashlib
import random
from urllib.parse import quote

import pytest

from dfc_assets.torrent.download import WebSeedDownloadError, download_from_web_seeds
from dfc_assets.torrent.metainfo import build_torrent
from dfc_assets.torrent.options import KIB, TorrentOptions

from .range_server import RangeServer, ServerBehaviour

NAME = "ds v1 ü+x.parquet"  # space, non-ASCII and '+' must survive the directory form
SIZE = 3 * 1024 * 1024 + 12_345


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    (root / "releases").mkdir()
    (root / "releases" / NAME).write_bytes(random.Random(7).randbytes(SIZE))
    return root


@pytest.mark.parametrize("flavour", ["v1", "hybrid"])
@pytest.mark.parametrize("form", ["file", "directory"])
def test_downloads_from_web_seed_only(mirror, tmp_path, flavour, form):
    source = mirror / "releases" / NAME
    with RangeServer(mirror) as server:
        seed = server.url + "releases/" + (quote(NAME) if form == "file" else "")
        built = build_torrent(
            source, name=NAME, options=TorrentOptions(flavour=flavour, piece_size=256 * KIB), web_seeds=[seed]
        )
        messages = []
        got = download_from_web_seeds(built.data, tmp_path / "out", timeout=60, progress=messages.append)
        ranged = [r for m, p, r in server.behaviour.requests if m == "GET" and r]
    assert got == tmp_path / "out" / NAME
    assert hashlib.sha256(got.read_bytes()).hexdigest() == built.sha256
    assert ranged, "libtorrent should have used Range requests"
    assert any("complete" in m for m in messages)


def test_accepts_a_torrent_file_path(mirror, tmp_path):
    with RangeServer(mirror) as server:
        built = build_torrent(
            mirror / "releases" / NAME, name=NAME, options=TorrentOptions(piece_size=MIB), web_seeds=[server.url + "releases/"]
        )
        torrent_file = tmp_path / "t.torrent"
        torrent_file.write_bytes(built.data)
        got = download_from_web_seeds(torrent_file, tmp_path / "out", timeout=60)
    assert got.stat().st_size == SIZE


MIB = 1024 * KIB


def test_server_ignoring_range_fails_with_a_clear_error(tmp_path):
    # libtorrent asks for up to 16 MiB per request, so a 200 reply only goes wrong for a bigger file
    (tmp_path / "www").mkdir()
    big = tmp_path / "www" / "big.parquet"
    big.write_bytes(random.Random(3).randbytes(40 * MIB + 1))
    with RangeServer(tmp_path / "www", ServerBehaviour(honour_range=False)) as server:
        seed = server.url
        built = build_torrent(big, name=big.name, options=TorrentOptions(piece_size=MIB), web_seeds=[seed])
        # libtorrent keeps the seed: the error comes at the timeout, naming the alert that says why (late on a loaded machine)
        with pytest.raises(WebSeedDownloadError) as err:
            download_from_web_seeds(built.data, tmp_path / "out", timeout=15)
    text = str(err.value)
    assert seed in text and big.name in text
    assert "invalid HTTP range" in text and "206" in text


def test_corrupt_only_web_seed_fails_fast_naming_the_hash_failure(mirror, tmp_path):
    behaviour = ServerBehaviour(corrupt={f"/releases/{NAME}": 5 * 256 * KIB + 10})
    with RangeServer(mirror, behaviour) as server:
        built = build_torrent(
            mirror / "releases" / NAME, name=NAME, options=TorrentOptions(piece_size=256 * KIB),
            web_seeds=[server.url + "releases/"],
        )
        with pytest.raises(WebSeedDownloadError) as err:
            download_from_web_seeds(built.data, tmp_path / "out", timeout=60)
    assert "every source failed" in str(err.value) and "do not match the torrent's piece hashes" in str(err.value)
