"""One embedded default for the seeding tests: real local services, versions published through Dagster."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from dfc_assets.cli.embedded import Embedded, embedded
from dfc_assets.registry import DatasetSpec, load_registry
from dfc_assets.services.local_stack import LocalServices, ServiceUrls
from dfc_assets.storage import CATALOG, TORRENT_FEED, LocalFolderStore, VersionKeys
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import read_torrent

SPECS = {spec.key: spec for spec in load_registry()}
BOUNDARY = SPECS["fixture_provinces_territories"]
TABLE = SPECS["statcan_table_33100036"]


@dataclasses.dataclass
class Published:
    urls: ServiceUrls
    run: Embedded
    done: set[tuple[str, str]]
    services: LocalServices

    @property
    def store(self) -> LocalFolderStore:
        return LocalFolderStore(Path(self.urls.store_root), self.urls.store_url)

    @property
    def catalog_url(self) -> str:
        return self.urls.store_url + CATALOG

    @property
    def feed_url(self) -> str:
        return self.urls.store_url + TORRENT_FEED

    def ensure(self, spec: DatasetSpec, version: str) -> None:
        """Publish a version (and rebuild the catalog and feeds) unless an earlier test did."""
        if (spec.key, version) in self.done:
            return
        assert self.run.publish(spec, version) is None
        assert self.run.build_catalog() is None
        self.done.add((spec.key, version))

    def sha256(self, spec: DatasetSpec, version: str) -> str:
        manifest = json.loads(self.store.get_bytes(VersionKeys(spec.id, version).manifest))
        return manifest["files"][0]["sha256"]

    def infohash(self, spec: DatasetSpec, version: str) -> str:
        return read_torrent(self.store.get_bytes(VersionKeys(spec.id, version).torrent)).infohash_v1

    def peer_only_magnet(self, spec: DatasetSpec, version: str, peer: str) -> str:
        """A magnet whose only source is `peer` (no web seeds, no trackers)."""
        info = read_torrent(self.store.get_bytes(VersionKeys(spec.id, version).torrent))
        return magnet_uri(dataclasses.replace(info, web_seeds=(), trackers=()), peer=peer)


def file_sha256(path: Path) -> str:
    """sha256 of a downloaded file, or of the main (first-listed, Parquet) file of a downloaded version folder."""
    if path.is_dir():
        (path,) = path.rglob("*.parquet")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


@pytest.fixture(scope="package")
def published(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("seeding")
    saved = {name: os.environ.get(name) for name in ("DFC_SERVICES_FILE", "DAGSTER_HOME")}
    try:
        services = LocalServices(workdir)
        with services as urls, embedded(workdir, say=lambda message: None) as run:
            published = Published(urls, run, set(), services)
            assert run.publish(BOUNDARY, "2022-02-09") is None
            assert run.publish(TABLE, "2025-06-11") is None
            assert run.build_catalog() is None
            published.done |= {(BOUNDARY.key, "2022-02-09"), (TABLE.key, "2025-06-11")}
            yield published
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
