import random
from urllib.parse import parse_qsl, urlsplit

import libtorrent as lt

from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import build_torrent
from dfc_assets.torrent.options import KIB, TorrentOptions


def test_magnet_carries_hashes_name_trackers_web_seeds_torrent_url_and_peer(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(random.Random(1).randbytes(100_000))
    name = "données v1+ü & co.parquet"
    seeds = ("http://127.0.0.1:9/releases/ds/v1/", "https://zenodo.org/records/7/files/x%20y.parquet")
    trackers = ("https://tracker.example/announce", "udp://t.example:1337/announce")
    built = build_torrent(
        path, name=name, options=TorrentOptions(piece_size=16 * KIB, trackers=trackers), web_seeds=seeds
    )
    torrent_url = "https://data.example/releases/ds/v1/ds_v1.parquet.torrent"
    uri = magnet_uri(built, torrent_url=torrent_url, peer="127.0.0.1:6881")

    params = lt.parse_magnet_uri(uri)
    assert str(params.info_hashes.v1) == built.infohash_v1
    assert params.info_hashes.v2.to_bytes().hex() == built.infohash_v2
    assert params.name == name
    assert list(params.trackers) == list(trackers)
    assert list(params.url_seeds) == list(seeds)
    assert [f"{ip}:{port}" for ip, port in params.peers] == ["127.0.0.1:6881"]

    query = parse_qsl(urlsplit(uri).query)
    assert ("xs", torrent_url) in query
    assert ("xl", "100000") in query
    assert [v for k, v in query if k == "xt"] == [f"urn:btih:{built.infohash_v1}", f"urn:btmh:1220{built.infohash_v2}"]
    assert " " not in uri and "&co" not in uri


def test_v1_magnet_has_only_btih(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 20_000)
    uri = magnet_uri(build_torrent(path, name="f.bin", options=TorrentOptions(flavour="v1")))
    assert "urn:btih:" in uri and "btmh" not in uri and "xs=" not in uri


def test_the_sibling_magnet_of_a_hybrid_is_the_v1_torrents_own_magnet(tmp_path):
    from dfc_assets.torrent.magnet import sibling_magnet
    from dfc_assets.torrent.metainfo import build_version_torrents

    paths = [tmp_path / "ds_v1.parquet", tmp_path / "ds_v1.pmtiles"]
    for i, path in enumerate(paths):
        path.write_bytes(random.Random(i).randbytes(70_000 + i))
    options = TorrentOptions(piece_size=16 * KIB, trackers=("https://tracker.example/announce",))
    built = build_version_torrents(paths, folder="v1", options=options, web_seeds=["http://127.0.0.1:9/releases/ds/"])
    hybrid = magnet_uri(built.main, torrent_url="http://127.0.0.1:9/t.torrent", peer="127.0.0.1:6881")
    v1_url = "http://127.0.0.1:9/t.v1.torrent"
    derived = sibling_magnet(hybrid, infohash_v1=built.v1.infohash_v1, size=built.v1.data_size, torrent_url=v1_url)
    assert derived == magnet_uri(built.v1, torrent_url=v1_url, peer="127.0.0.1:6881")
    assert built.main.size > built.v1.size == built.v1.data_size == 140_001  # the hybrid's pad files are not the v1's
