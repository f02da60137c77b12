"""Torrents built from the hashes recorded while the files were copied into the store, without reading the
files again, are byte-identical to libtorrent hashing the files itself; the torrent step uses them."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from dfc_assets.publication import artifact, scratch
from dfc_assets.publication import torrent as torrent_step
from dfc_assets.storage import LocalFolderStore
from dfc_assets.storage.hashed_copy import put_file_hashed
from dfc_assets.torrent import hashing
from dfc_assets.torrent.hashing import ContiguousPieces
from dfc_assets.torrent.metainfo import build_version_torrents, version_torrents_from_digests
from dfc_assets.torrent.options import KIB, MIB, TorrentOptions

from .lt_reference import libtorrent_folder_torrent, libtorrent_torrent
from .published_version import SPEC, PublishedVersion


def _recorded_version(tmp_path: Path, folder: Path, piece_size: int, flavour: str):
    """Copy the folder's files into a store as the parquet step does, record their hashes, build from the records."""
    store = LocalFolderStore(tmp_path / "bucket", "http://127.0.0.1:9/")
    cache = tmp_path / "cache"
    paths = sorted(folder.iterdir(), key=lambda p: p.name)
    chain = ContiguousPieces(piece_size) if len(paths) > 1 else None
    stored = []
    for path in paths:
        digests = put_file_hashed(store, f"releases/d/1/{path.name}", path, piece_size=piece_size, contiguous=chain)
        scratch.record_digests(digests, cache)
        stored.append((path.name, digests.sha256))
        assert (store.root / "releases/d/1" / path.name).read_bytes() == path.read_bytes()
    if chain is not None:
        scratch.record_contiguous(stored, piece_size, chain.finish(), cache)
    named = []
    for path in paths:
        data = path.read_bytes()
        recalled = scratch.recorded_digests(hashlib.sha256(data).hexdigest(), len(data), piece_size, v2=True, root=cache)
        assert recalled is not None
        named.append((path.name, recalled))
    contiguous = None
    if chain is not None:
        contiguous = scratch.recorded_contiguous([(n, d.sha256) for n, d in named], piece_size, cache)
        assert contiguous is not None
    return version_torrents_from_digests(named, folder=folder.name, options=TorrentOptions(flavour=flavour), contiguous_v1=contiguous)


@pytest.mark.parametrize("size", [1, 64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 20 * MIB + 5 * 64 * KIB + 3],
                         ids=["1-byte", "piece-minus-1", "one-piece", "piece-plus-1", "several-windows-short-tail"])
@pytest.mark.parametrize("flavour", ["hybrid", "v1"])
def test_a_single_file_from_recorded_hashes_equals_libtorrent(tmp_path, size, flavour):
    folder = tmp_path / "2021"
    folder.mkdir()
    path = folder / "d_2021.pmtiles"
    path.write_bytes(random.Random(size).randbytes(size))
    built = _recorded_version(tmp_path, folder, 64 * KIB, flavour)
    assert built.main.data == libtorrent_torrent(path, piece_size=64 * KIB, flavour=flavour)
    assert built.v1.data == libtorrent_torrent(path, piece_size=64 * KIB, flavour="v1")


@pytest.mark.parametrize("sizes", [
    pytest.param([70_000, 100_000, 5], id="unaligned-with-pads"),
    pytest.param([1, 0, 40_000], id="one-byte-and-empty"),
    pytest.param([4 * 32 * KIB, 17 * MIB + 3], id="aligned-then-several-windows"),
])
def test_several_files_from_recorded_hashes_equal_libtorrent(tmp_path, sizes):
    folder = tmp_path / "2021"
    folder.mkdir()
    for i, size in enumerate(sizes):
        (folder / f"d_2021_{'abc'[i]}.bin").write_bytes(random.Random(i * 31 + size).randbytes(size))
    built = _recorded_version(tmp_path, folder, 32 * KIB, "hybrid")
    assert built.main.data == libtorrent_folder_torrent(folder, piece_size=32 * KIB, flavour="hybrid")  # BEP 47 pads
    assert built.v1.data == libtorrent_folder_torrent(folder, piece_size=32 * KIB, flavour="v1")  # end to end


def test_recorded_hashes_of_another_piece_size_or_file_are_not_used(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100_000)
    digests = hashing.digest_file(path, piece_size=32 * KIB)
    scratch.record_digests(digests, tmp_path / "cache")
    assert scratch.recorded_digests(digests.sha256, 100_000, 32 * KIB, v2=True, root=tmp_path / "cache") == digests
    assert scratch.recorded_digests(digests.sha256, 100_000, 64 * KIB, v2=True, root=tmp_path / "cache") is None
    assert scratch.recorded_digests(digests.sha256, 99_999, 32 * KIB, v2=True, root=tmp_path / "cache") is None
    assert scratch.recorded_digests("0" * 64, 100_000, 32 * KIB, v2=True, root=tmp_path / "cache") is None
    lean = hashing.digest_file(path, piece_size=16 * KIB, v2=False)
    scratch.record_digests(lean, tmp_path / "cache")
    assert scratch.recorded_digests(lean.sha256, 100_000, 16 * KIB, v2=True, root=tmp_path / "cache") is None  # no v2 tree
    scratch.evict([digests.sha256], tmp_path / "cache")
    assert list((tmp_path / "cache").rglob("*.json")) == []


def test_the_torrent_step_builds_from_the_recorded_hashes_without_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("DFC_CACHE_DIR", str(tmp_path / "cache"))
    published = PublishedVersion(tmp_path / "pub", "2021", {"parquet": 3 * MIB + 123, "pmtiles": 2 * MIB + 45})
    local = tmp_path / "made"
    local.mkdir()
    products = []
    for name, data in published.files.items():
        (local / name).write_bytes(data)
        products.append((local / name, "data"))
    artifact.store_products(published.publisher, SPEC, "2021", products, archived=[])  # as the parquet step stores them
    expected = build_version_torrents([p for p, _ in products], folder="2021", options=torrent_step.torrent_options(
        published.publisher, SPEC, "2021", "10.5281/zenodo.4242"))
    mapped = []
    original = hashing._map
    monkeypatch.setattr(hashing, "_map", lambda fd, offset, length: mapped.append(length) or original(fd, offset, length))
    try:
        result = torrent_step.make_torrent(published.publisher, SPEC, "2021")
    finally:
        published.close()
    assert mapped == []  # no byte of the files hashed again
    assert result.info.infohash_v1 == expected.main.infohash_v1 and result.info.infohash_v2 == expected.main.infohash_v2
    assert result.v1.info.infohash_v1 == expected.v1.infohash_v1
