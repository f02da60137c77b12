"""Both object stores keep the same contract: write-once keys, listing, copies, public URLs."""

from __future__ import annotations

import sys

import httpx
import pytest

from dfc_assets.services.static_files import file_server
from dfc_assets.storage import LocalFolderStore, ObjectExists, S3ObjectStore, VersionKeys
from dfc_assets_tests.threads import in_threads


@pytest.fixture
def store(either_store):
    return either_store


def test_write_once_keys_accept_the_same_bytes_and_refuse_others(store, tmp_path):
    source = tmp_path / "a.parquet"
    source.write_bytes(b"version A bytes")
    store.put_file("releases/d/1/d_1.parquet", source, if_absent=True)
    store.put_file("releases/d/1/d_1.parquet", source, if_absent=True)
    source.write_bytes(b"something else")
    with pytest.raises(ObjectExists, match="releases/d/1/d_1.parquet"):
        store.put_file("releases/d/1/d_1.parquet", source, if_absent=True)
    with pytest.raises(ObjectExists):
        store.put_bytes("releases/d/1/d_1.parquet", b"other", if_absent=True)
    assert store.get_bytes("releases/d/1/d_1.parquet") == b"version A bytes"


def test_list_head_copy_download(store, tmp_path):
    store.put_bytes("releases/d/1/x.json", b"{}")
    store.put_bytes("releases/d/2/x.json", b"{1}")
    store.put_bytes("processed/d.json", b"[]")
    assert [i.key for i in store.list("releases/d/")] == ["releases/d/1/x.json", "releases/d/2/x.json"]
    assert store.head("releases/d/2/x.json").size == 3
    assert store.head("missing") is None
    store.copy("releases/d/2/x.json", "processed/d.parquet")
    assert store.get_bytes("processed/d.parquet") == b"{1}"
    assert store.download("processed/d.json", tmp_path / "out" / "d.json").read_bytes() == b"[]"
    with pytest.raises(KeyError):
        store.get_bytes("nothing/here")


def test_key_layout_and_public_urls(store):
    keys = VersionKeys("ca_statcan_x", "2025-06-11")
    assert keys.artifact == "releases/ca_statcan_x/2025-06-11/ca_statcan_x_2025-06-11.parquet"
    assert keys.torrent.endswith("ca_statcan_x_2025-06-11.parquet.torrent")
    assert store.public_url(keys.artifact).endswith("/" + keys.artifact)


def test_local_store_never_leaves_a_partial_object(tmp_path):
    store = LocalFolderStore(tmp_path / "bucket", "http://127.0.0.1:9/")

    with pytest.raises(OSError):
        store._write_atomically("releases/d/1/f.parquet", lambda out: (out.write(b"half"), (_ for _ in ()).throw(OSError("disk full"))))
    assert store.head("releases/d/1/f.parquet") is None
    assert store.list("releases/") == []


def test_local_store_is_served_with_range(tmp_path):
    store_root = tmp_path / "bucket"
    server = file_server(store_root).start()
    try:
        store = LocalFolderStore(store_root, server.base_url + "/")
        store.put_bytes("releases/d/1/f.bin", bytes(range(256)) * 4)
        url = store.public_url("releases/d/1/f.bin")
        with httpx.Client() as client:
            whole = client.get(url)
            assert whole.status_code == 200 and len(whole.content) == 1024 and whole.headers["Accept-Ranges"] == "bytes"
            part = client.get(url, headers={"Range": "bytes=10-19"})
            assert part.status_code == 206 and part.content == bytes(range(10, 20))
            assert part.headers["Content-Range"] == "bytes 10-19/1024"
            tail = client.get(url, headers={"Range": "bytes=-4"})
            assert tail.status_code == 206 and tail.content == bytes(range(252, 256))
            assert client.get(url, headers={"Range": "bytes=5000-"}).status_code == 416
            assert client.head(url).headers["Content-Length"] == "1024"
            assert client.get(server.base_url + "/../etc/passwd").status_code == 404
            etag = whole.headers["ETag"]
            assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    finally:
        server.stop()


def test_create_is_atomic_and_exclusive(store):
    """Of writers creating one key at the same moment exactly one wins, round after round (on S3 a conditional PUT).

    Threads switch every microsecond here (moto's server runs in this process), as on a loaded machine; moto's own
    check-then-write let two writers in within 50 rounds that way (the conftest makes it atomic, as S3 is)."""
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_ in range(50):
            key = f"catalog/.writer-lock-{round_}"
            won = in_threads(*(lambda i=i: store.create(key, f"writer {i}".encode()) for i in range(16)), what="create")
            assert won.count(True) == 1, f"round {round_}: {won.count(True)} writers created {key}"
            assert store.get_bytes(key) == f"writer {won.index(True)}".encode()
    finally:
        sys.setswitchinterval(switch_interval)
    store.delete("catalog/.writer-lock-0")
    assert store.head("catalog/.writer-lock-0") is None
    assert store.create("catalog/.writer-lock-0", b"again")


def test_s3_uploads_big_files_in_parts_with_sha256_checksums(s3_bucket, tmp_path, monkeypatch):
    import hashlib

    from dfc_assets.storage import s3

    monkeypatch.setattr(s3, "MULTIPART_PART_SIZE", 5 << 20)  # S3's smallest part, so a test file has several
    client, bucket = s3_bucket
    store = S3ObjectStore(client, bucket, "https://data.example.org/")
    data = hashlib.sha256(b"seed").digest() * ((11 << 20) // 32)
    source = tmp_path / "big.pmtiles"
    source.write_bytes(data)
    store.put_file("releases/d/1/d_1.pmtiles", source, if_absent=True)
    head = client.head_object(Bucket=bucket, Key="releases/d/1/d_1.pmtiles", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    assert head["ChecksumSHA256"] and head["ContentType"] == "application/vnd.pmtiles"
    assert store.get_bytes("releases/d/1/d_1.pmtiles") == data
    store.put_file("releases/d/1/d_1.pmtiles", source, if_absent=True)  # the same bytes again: accepted, nothing written


def test_transfer_parts_stay_within_the_s3_part_limit():
    from dfc_assets.storage.s3 import MAX_PARTS, transfer_config

    for size in (1, 64 << 20, 50 << 30, 2 << 40):
        config = transfer_config(size)
        assert -(-size // config.multipart_chunksize) <= MAX_PARTS
        assert config.multipart_chunksize >= 5 << 20
