"""A two-file version seeded by the infrastructure seeder, in place from a local store and from an S3 bucket
through its cache folder: both torrents (main and v1) download from the seeder alone."""

import dataclasses
import hashlib

import pytest

from dfc_assets.publication import torrent as torrent_step
from dfc_assets.seeding import InfrastructureSeeder
from dfc_assets.storage import S3ObjectStore
from dfc_assets.torrent.download import download_magnet
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.seeder import Seeder

from ..torrent.published_version import SPEC, PublishedVersion

VERSION = "2021"
SIZES = {"parquet": 1024 * 1024 + 99, "pmtiles": 700_000}


@pytest.fixture()
def version(tmp_path):
    published = PublishedVersion(tmp_path / "pub", VERSION, SIZES)
    try:
        yield published, torrent_step.make_torrent(published.publisher, SPEC, VERSION)
    finally:
        published.close()


def _downloads_from_the_seeder_alone(seeder: Seeder, torrent, published, out, listen: str) -> None:
    for t, where in ((torrent, "main"), (torrent.v1, "v1")):
        uri = magnet_uri(dataclasses.replace(t.info, web_seeds=(), trackers=()), peer=seeder.peer)
        got = download_magnet(uri, out / where, listen=listen, timeout=60)
        assert got == out / where / VERSION
        for name, data in published.files.items():
            assert hashlib.sha256((got / name).read_bytes()).digest() == hashlib.sha256(data).digest()


def test_a_local_store_is_seeded_in_place(version, tmp_path):
    published, torrent = version
    with Seeder("127.0.0.1:0", discovery=False) as seeder:
        infrastructure = InfrastructureSeeder(published.store, seeder, log=lambda message: None)
        infrastructure.poll()
        assert {torrent.info.infohash_v1, torrent.v1.info.infohash_v1} == set(infrastructure.seeding)
        _downloads_from_the_seeder_alone(seeder, torrent, published, tmp_path / "client", "127.0.0.2:0")


def test_an_s3_bucket_is_seeded_from_its_cache_folder(version, tmp_path, s3_bucket):
    published, torrent = version
    client, bucket = s3_bucket
    store = S3ObjectStore(client, bucket, "https://data.example.org/")
    for info in published.store.list("releases/"):
        store.put_bytes(info.key, published.store.get_bytes(info.key))
    with Seeder("127.0.0.1:0", discovery=False) as seeder:
        infrastructure = InfrastructureSeeder(store, seeder, cache_dir=tmp_path / "cache", log=lambda message: None)
        infrastructure.poll()
        assert {torrent.info.infohash_v1, torrent.v1.info.infohash_v1} == set(infrastructure.seeding)
        assert sorted(p.name for p in (tmp_path / "cache" / SPEC.id / VERSION).iterdir()) == sorted(published.files)
        _downloads_from_the_seeder_alone(seeder, torrent, published, tmp_path / "client", "127.0.0.3:0")
