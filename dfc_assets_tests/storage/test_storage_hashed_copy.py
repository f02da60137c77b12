"""A file copied into either store while its manifest hashes and torrent hashes come from the same read."""

from __future__ import annotations

import base64
import hashlib
import random

import pytest

from dfc_assets.storage import LocalFolderStore, ObjectExists, S3ObjectStore
from dfc_assets.storage.hashed_copy import put_file_hashed
from dfc_assets.storage.s3 import MAX_PARTS, window_part_size
from dfc_assets.torrent.hashing import digest_file
from dfc_assets.torrent.options import MIB

KEY = "releases/d/1/d_1.pmtiles"


@pytest.fixture
def store(either_store):
    return either_store


@pytest.mark.parametrize("size", [1, 3 * MIB + 7, 40 * MIB + 12345], ids=["1-byte", "one-window", "three-windows"])
def test_the_copy_holds_the_bytes_and_its_digests_equal_a_separate_hashing(store, tmp_path, size):
    source = tmp_path / "big.pmtiles"
    data = random.Random(size).randbytes(size)
    source.write_bytes(data)
    key = f"releases/d/{size}/d_{size}.pmtiles"  # parametrized runs share one bucket
    copied = put_file_hashed(store, key, source, piece_size=MIB, content_type="application/vnd.pmtiles")
    assert store.get_bytes(key) == data
    assert (copied.size, copied.sha256, copied.md5) == (size, hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())
    alone = digest_file(source, piece_size=MIB)
    assert (copied.pieces_v1, copied.pieces_root_v2, copied.piece_layer_v2) == (alone.pieces_v1, alone.pieces_root_v2, alone.piece_layer_v2)
    padded = digest_file(source, piece_size=MIB, pad_last_piece=True)
    assert copied.v1_pieces(padded=True) == padded.pieces_v1 and padded.v1_pieces(padded=False) == alone.pieces_v1
    if isinstance(store, LocalFolderStore):
        assert not list((tmp_path / "bucket").rglob(".incoming-*"))


def test_s3_gets_one_part_per_window_each_with_its_sha256(s3_bucket, tmp_path):
    client, bucket = s3_bucket
    store = S3ObjectStore(client, bucket, "https://data.example.org/")
    source = tmp_path / "big.pmtiles"
    data = random.Random(3).randbytes(40 * MIB + 5)
    source.write_bytes(data)
    put_file_hashed(store, KEY, source, piece_size=MIB)
    head = client.head_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")  # 16 + 16 + 8 MiB
    parts = [data[i : i + 16 * MIB] for i in range(0, len(data), 16 * MIB)]
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    assert head["ChecksumSHA256"].split("-")[0] == base64.b64encode(composite).decode()  # every part's SHA-256 was sent
    assert head["ContentType"] == "application/vnd.pmtiles"
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_an_existing_key_keeps_the_write_once_rule(store, tmp_path):
    source = tmp_path / "a.parquet"
    source.write_bytes(b"version A bytes")
    first = put_file_hashed(store, KEY, source, piece_size=MIB)
    assert put_file_hashed(store, KEY, source, piece_size=MIB) == first  # the same bytes again: accepted
    source.write_bytes(b"something else")
    with pytest.raises(ObjectExists):
        put_file_hashed(store, KEY, source, piece_size=MIB)
    assert store.get_bytes(KEY) == b"version A bytes"


def test_an_empty_file_is_stored_and_digested(store, tmp_path):
    source = tmp_path / "empty.json"
    source.write_bytes(b"")
    digests = put_file_hashed(store, "releases/d/1/empty.json", source, piece_size=MIB)
    assert store.get_bytes("releases/d/1/empty.json") == b""
    assert (digests.size, digests.sha256, digests.pieces_v1, digests.pieces_root_v2) == (0, hashlib.sha256(b"").hexdigest(), b"", None)


def test_a_failed_copy_leaves_no_object(store, tmp_path):
    source = tmp_path / "big.pmtiles"
    source.write_bytes(random.Random(5).randbytes(20 * MIB))

    def progress(done: int, total: int) -> None:
        raise RuntimeError("disk gone")

    from dfc_assets.storage import hashed_copy

    with pytest.raises(RuntimeError, match="disk gone"):
        original = hashed_copy.digest_file
        hashed_copy.digest_file = lambda path, **kw: original(path, **kw, progress=progress)
        try:
            put_file_hashed(store, KEY, source, piece_size=MIB)
        finally:
            hashed_copy.digest_file = original
    assert store.head(KEY) is None


def test_window_parts_stay_within_the_s3_part_limit():
    for size in (1, 64 << 20, 50 << 30, 2 << 40):
        part = window_part_size(size)
        assert -(-size // part) <= MAX_PARTS and part >= 16 << 20 and part & (part - 1) == 0


def test_a_sha256_the_caller_computed_spares_that_hash(store, tmp_path):
    source = tmp_path / "download.pmtiles"
    source.write_bytes(b"downloaded bytes")
    given = hashlib.sha256(b"downloaded bytes").hexdigest()
    digests = put_file_hashed(store, "archive/d/1/download.pmtiles", source, piece_size=MIB, sha256=given)
    assert digests.sha256 == given and digests.md5 == hashlib.md5(b"downloaded bytes").hexdigest()
    assert store.get_bytes("archive/d/1/download.pmtiles") == b"downloaded bytes"
