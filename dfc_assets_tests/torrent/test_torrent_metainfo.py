import hashlib
import random
from pathlib import Path

import libtorrent as lt
import pytest

from dfc_assets.torrent.hashing import digest_file
from dfc_assets.torrent.metainfo import build_torrent, read_torrent, with_web_seeds
from dfc_assets.torrent.options import GIB, KIB, MIB, TorrentOptions, piece_size_for

from .lt_reference import libtorrent_torrent

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "torrents"

# (size, piece size): the edges of v1 pieces and of the BEP 52 tree
EDGE_CASES = [
    pytest.param(1, 16 * KIB, id="1-byte"),
    pytest.param(16 * KIB, 16 * KIB, id="exactly-one-piece"),
    pytest.param(40_000, 64 * KIB, id="one-partial-piece-several-blocks"),
    pytest.param(4 * 64 * KIB, 64 * KIB, id="multiple-of-piece-size"),
    pytest.param(5 * 64 * KIB + 1234, 64 * KIB, id="not-a-multiple-padded-layer"),
    pytest.param(37 * 16 * KIB + 1, 16 * KIB, id="several-tree-layers"),
    pytest.param(9 * MIB + 5, 32 * KIB, id="many-reads-small-pieces"),
    pytest.param(20 * MIB + 77, 8 * MIB, id="two-windows-of-8mib-pieces"),
    pytest.param(33 * MIB + 5, 256 * KIB, id="several-windows-short-last"),
    pytest.param(40 * MIB + 5, 32 * MIB, id="pieces-larger-than-a-window"),
]


def _random_file(directory: Path, size: int, name: str = "data.parquet") -> Path:
    path = directory / name
    path.write_bytes(random.Random(size).randbytes(size))
    return path


# which whole-file hashes the same read also computes: all, torrent only, each one alone
FILE_HASHES = [
    pytest.param(True, True, id="md5+sha256"),
    pytest.param(False, False, id="torrent-only"),
    pytest.param(True, False, id="md5-only"),
    pytest.param(False, True, id="sha256-only"),
]


@pytest.mark.parametrize(("md5", "sha256"), FILE_HASHES)
@pytest.mark.parametrize("flavour", ["v1", "hybrid"])
@pytest.mark.parametrize(("size", "piece_size"), EDGE_CASES)
def test_torrent_is_byte_identical_to_libtorrent(tmp_path, size, piece_size, flavour, md5, sha256):
    path = _random_file(tmp_path, size)
    built = build_torrent(
        path, name=path.name, options=TorrentOptions(flavour=flavour, piece_size=piece_size), md5=md5, sha256=sha256
    )

    reference = libtorrent_torrent(path, piece_size=piece_size, flavour=flavour)
    assert built.data == reference
    assert lt.bdecode(built.data)[b"info"] == lt.bdecode(reference)[b"info"]

    hashes = lt.torrent_info(lt.bdecode(built.data)).info_hashes()
    assert built.infohash_v1 == str(hashes.v1)
    if flavour == "hybrid":
        assert hashes.has_v2() and built.infohash_v2 == hashes.v2.to_bytes().hex()
    else:
        assert not hashes.has_v2() and built.infohash_v2 is None
    data = path.read_bytes()
    assert built.size == size
    assert built.md5 == (hashlib.md5(data).hexdigest() if md5 else None)
    assert built.sha256 == (hashlib.sha256(data).hexdigest() if sha256 else None)


def test_top_level_fields_match_libtorrent(tmp_path):
    path = _random_file(tmp_path, 300_000)
    seeds = ("http://a.example/releases/", "https://zenodo.org/records/1/files/data.parquet")
    trackers = ("https://tracker.example/announce", "udp://tracker.example:1337/announce")
    comment = "Données ouvertes / Open data"
    options = TorrentOptions(piece_size=64 * KIB, trackers=trackers, comment=comment, creator="dfc_assets")
    built = build_torrent(path, name=path.name, options=options, web_seeds=seeds)
    reference = libtorrent_torrent(
        path, piece_size=64 * KIB, flavour="hybrid", web_seeds=seeds, trackers=trackers, comment=comment, creator="dfc_assets"
    )
    assert built.data == reference
    info = read_torrent(built.data)
    assert info.web_seeds == seeds and info.trackers == trackers and info.comment == comment


def test_output_is_deterministic_and_web_seeds_do_not_change_the_infohash(tmp_path):
    path = _random_file(tmp_path, 200_000)
    options = TorrentOptions(piece_size=16 * KIB)
    first = build_torrent(path, name="x.parquet", options=options)
    again = build_torrent(path, name="x.parquet", options=options)
    seeded = build_torrent(path, name="x.parquet", options=options, web_seeds=["http://m.example/d/"])
    assert first.data == again.data
    assert seeded.infohash_v1 == first.infohash_v1 and seeded.infohash_v2 == first.infohash_v2
    assert seeded.data != first.data
    assert b"creation date" not in lt.bdecode(first.data)

    resealed = with_web_seeds(seeded.data, ["http://other.example/x.parquet"])
    assert read_torrent(resealed).web_seeds == ("http://other.example/x.parquet",)
    assert read_torrent(resealed).infohash_v2 == first.infohash_v2


def test_source_and_creation_date(tmp_path):
    path = _random_file(tmp_path, 50_000)
    plain = build_torrent(path, name="x", options=TorrentOptions(piece_size=16 * KIB))
    sourced = build_torrent(path, name="x", options=TorrentOptions(piece_size=16 * KIB, source="Data for Canada"))
    dated = build_torrent(path, name="x", options=TorrentOptions(piece_size=16 * KIB, creation_date=1_700_000_000))
    assert sourced.infohash_v1 != plain.infohash_v1
    assert lt.bdecode(sourced.data)[b"info"][b"source"] == b"Data for Canada"
    assert dated.infohash_v1 == plain.infohash_v1
    assert lt.bdecode(dated.data)[b"creation date"] == 1_700_000_000
    assert read_torrent(sourced.data).infohash_v1 == sourced.infohash_v1


def test_name_is_used_not_the_local_file_name(tmp_path):
    path = _random_file(tmp_path, 1000, name="tmp123.bin")
    built = build_torrent(path, name="ds_2025-06-11.parquet", options=TorrentOptions(flavour="v1"))
    assert read_torrent(built.data).name == "ds_2025-06-11.parquet"


def test_digest_progress_reaches_total(tmp_path):
    path = _random_file(tmp_path, 9 * MIB + 3)
    calls = []
    digests = digest_file(path, piece_size=MIB, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (digests.size, digests.size)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(digests.pieces_v1) == 20 * 10 and len(digests.piece_layer_v2) == 32 * 10


def test_v1_only_digest_skips_v2(tmp_path):
    digests = digest_file(_random_file(tmp_path, 70_000), piece_size=16 * KIB, v2=False)
    assert digests.pieces_root_v2 is None and digests.piece_layer_v2 is None and len(digests.pieces_v1) == 100


@pytest.mark.parametrize(
    ("size", "expected"),
    [(1, 16 * KIB), (64 * 16 * KIB, 16 * KIB), (10_000_000, 256 * KIB), (GIB, 16 * MIB), (GIB + 1, 16 * MIB), (50 * GIB, 16 * MIB)],
)
def test_piece_size_policy(size, expected):
    assert piece_size_for(size) == expected


def test_bad_inputs_are_refused_with_a_reason(tmp_path):
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        build_torrent(empty, name="empty.parquet", options=TorrentOptions())
    with pytest.raises(ValueError, match="power of two"):
        TorrentOptions(piece_size=100_000)
    with pytest.raises(ValueError, match="plain file name"):
        build_torrent(_random_file(tmp_path, 10), name="a/b", options=TorrentOptions())
    with pytest.raises(ValueError, match="query string"):
        build_torrent(_random_file(tmp_path, 10), name="b", options=TorrentOptions(), web_seeds=["http://z/x?download=1"])
    with pytest.raises(ValueError, match="not a valid .torrent"):
        read_torrent(b"not bencode")


def test_reads_data_for_canada_torrents():
    infos = {p.name: read_torrent(p.read_bytes()) for p in SAMPLES.glob("*.torrent")}
    assert len(infos) == 3
    land = infos["ca_nrcan_land_cover_2020_30m.pmtiles.torrent"]
    assert land.name == "ca_nrcan_land_cover_2020_30m.pmtiles"
    assert land.size == 3_266_780_525 and land.piece_size == 16 * MIB
    assert land.num_pieces == len(land.piece_hashes_v1) == -(-land.size // land.piece_size)
    assert len(land.web_seeds) == 3 and land.trackers == ("https://tracker.labs.dataforcanada.org/announce",)
    assert land.infohash_v1 and land.infohash_v2 is None
