"""A version of several files: hybrid (BEP 47 pads) and v1 (end to end) torrents from one read of each file,
byte-identical to libtorrent's; a single-file version keeps today's torrent and gets its v1 half."""

import random
from pathlib import Path

import libtorrent as lt
import pytest

from dfc_assets.torrent.metainfo import build_torrent, build_version_torrents, read_torrent, v1_half
from dfc_assets.torrent.options import KIB, MIB, TorrentOptions

from .lt_reference import libtorrent_folder_torrent, libtorrent_torrent

# sizes of the files of one version (in name order) and the piece size
LAYOUTS = [
    pytest.param([70_000, 100_000], 32 * KIB, id="two-unaligned"),
    pytest.param([4 * 64 * KIB, 3 * 64 * KIB], 64 * KIB, id="two-aligned-no-pads"),
    pytest.param([5, 16 * KIB + 1], 16 * KIB, id="tiny-first-file"),
    pytest.param([1, 2, 3], 16 * KIB, id="three-files-in-one-piece"),
    pytest.param([17 * MIB + 3, 5 * MIB + 11], 256 * KIB, id="several-windows"),
    pytest.param([9 * MIB + 5, 40_000], 8 * MIB, id="big-pieces-small-second-file"),
]


def _version(directory: Path, sizes: list[int]) -> list[Path]:
    directory.mkdir()
    paths = []
    for i, size in enumerate(sizes):
        path = directory / f"ds_2021_{'abc'[i]}.{('parquet', 'pmtiles', 'json')[i]}"
        path.write_bytes(random.Random(size * 7 + i).randbytes(size))
        paths.append(path)
    return paths


@pytest.mark.parametrize(("sizes", "piece_size"), LAYOUTS)
def test_both_torrents_are_byte_identical_to_libtorrent(tmp_path, sizes, piece_size):
    folder = tmp_path / "2021"
    paths = _version(folder, sizes)
    built = build_version_torrents(list(reversed(paths)), folder="2021", options=TorrentOptions(piece_size=piece_size))
    assert built.main.data == libtorrent_folder_torrent(folder, piece_size=piece_size, flavour="hybrid")
    assert built.v1.data == libtorrent_folder_torrent(folder, piece_size=piece_size, flavour="v1")
    hybrid, v1 = read_torrent(built.main.data), read_torrent(built.v1.data)
    assert hybrid.infohash_v1 == built.main.infohash_v1 and hybrid.infohash_v2 == built.main.infohash_v2
    assert v1.infohash_v1 == built.v1.infohash_v1 and v1.infohash_v2 is None
    assert hybrid.multi_file and v1.multi_file and hybrid.name == v1.name == "2021"
    assert [f.path for f in hybrid.data_files] == [f.path for f in v1.files] == [f"2021/{p.name}" for p in paths]
    assert all(f.offset % piece_size == 0 for f in hybrid.data_files)  # the pads align every file to a piece
    assert [f.size for f in hybrid.files if f.pad] == [-s % piece_size for s in sizes if s % piece_size]
    assert [d.md5 is not None for d in built.digests.files] == [True] * len(sizes)
    assert hybrid.size == built.main.size == sum(f.size for f in hybrid.files)  # pads included, as libtorrent counts
    assert hybrid.data_size == built.main.data_size == v1.size == v1.data_size == sum(sizes)


def test_single_file_version_keeps_its_torrent_and_gets_the_v1_half(tmp_path):
    path = tmp_path / "ds_2025-06-11.parquet"
    path.write_bytes(random.Random(3).randbytes(3 * MIB + 5))
    options = TorrentOptions(piece_size=256 * KIB)
    built = build_version_torrents([path], folder="2025-06-11", options=options)
    assert built.main.data == build_torrent(path, name=path.name, options=options).data  # info-hash unchanged
    assert built.v1.data == libtorrent_torrent(path, piece_size=256 * KIB, flavour="v1")
    assert not read_torrent(built.v1.data).multi_file
    assert lt.bdecode(built.v1.data)[b"info"][b"pieces"] == lt.bdecode(built.main.data)[b"info"][b"pieces"]


def test_a_multi_file_web_seed_must_be_a_directory(tmp_path):
    paths = _version(tmp_path / "2021", [10, 20])
    with pytest.raises(ValueError, match="directory URL"):
        build_version_torrents(paths, folder="2021", options=TorrentOptions(), web_seeds=["http://h/x.parquet"])


def test_the_v1_half_of_a_published_single_file_hybrid_needs_no_reading(tmp_path):
    path = tmp_path / "ds_2016.parquet"
    path.write_bytes(random.Random(4).randbytes(MIB + 3))
    options = TorrentOptions(piece_size=64 * KIB, trackers=("http://t.example/announce",), comment="c")
    built = build_version_torrents([path], folder="2016", options=options, web_seeds=["http://h/releases/ds/2016/"])
    assert v1_half(built.main.data) == built.v1.data
    multi = build_version_torrents(_version(tmp_path / "2021", [10, 20]), folder="2021", options=options)
    with pytest.raises(ValueError, match="pad files"):
        v1_half(multi.main.data)
