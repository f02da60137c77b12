"""`dfc demo`: publish every registry dataset end to end through Dagster on the embedded default, then check every torrent."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from dfc_assets.cli.embedded import Embedded, embedded
from dfc_assets.defs.resources import USER_AGENT, PublisherResource
from dfc_assets.publication.context import Publisher
from dfc_assets.publication.torrent import load_torrent
from dfc_assets.registry import DatasetSpec, load_registry
from dfc_assets.sources import current_release
from dfc_assets.storage import CATALOG
from dfc_assets.torrent.download import download_from_web_seeds

@dataclass
class DemoReport:
    catalog_path: str
    catalog_rows: int
    versions: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"catalog_path": self.catalog_path, "catalog_rows": self.catalog_rows, "versions": self.versions, "failures": self.failures}


def publish_current_versions(run: Embedded, specs: list[DatasetSpec], say: Callable[[str], None]) -> list[str]:
    """Add each dataset's current upstream version as a partition and run its publishing job; returns failures."""
    failures = []
    with httpx.Client(timeout=60, headers={"User-Agent": USER_AGENT}) as client:
        for spec in specs:
            try:
                release = current_release(spec, run.settings, client)
            except Exception as error:  # one failing source never stops the others
                failures.append(f"{spec.key}: {error}")
                continue
            say(f"publishing {spec.key} version {release.version} ...")
            failure = run.publish(spec, release.version)
            if failure:
                failures.append(failure)
    return failures


def check_torrents(publisher: Publisher, specs: list[DatasetSpec], say: Callable[[str], None]) -> tuple[list[dict], list[str]]:
    """Download every published version from its web seeds only and compare its sha256."""
    settings = publisher.settings
    rows, failures = [], []

    def local_path(key: str) -> str:
        return str(Path(settings.local_store_root) / key) if settings.local_store_root else publisher.store.public_url(key)

    for spec in specs:
        for published in publisher.published.all_versions(spec.id):
            version, manifest, record = published.version, published.manifest, published.record
            torrent = load_torrent(publisher, spec, version)
            if record is None or torrent is None or manifest is None:
                failures.append(f"{spec.key} version {version}: not fully published")
                continue
            primary = manifest.primary
            target = publisher.scratch / "downloads" / spec.key / version
            try:
                downloaded = download_from_web_seeds(torrent.data, target, timeout=180)
                # one file: the file itself; several: the torrent's folder holding every file of the version
                digests = {f.name: hashlib.sha256((downloaded / f.name if downloaded.is_dir() else downloaded).read_bytes()).hexdigest()
                           for f in (manifest.files if downloaded.is_dir() else (primary,))}
            except Exception as error:
                failures.append(f"{spec.key} version {version}: torrent download from web seeds failed: {error}")
                continue
            wrong = [f"{f.name} has sha256 {digests[f.name]}, the manifest {f.sha256}" for f in manifest.files if f.name in digests and digests[f.name] != f.sha256]
            failures += [f"{spec.key} version {version}: torrent download: {problem}" for problem in wrong]
            say(f"downloaded {', '.join(digests)} from its web seeds with libtorrent: sha256 {'DIFFERS' if wrong else 'matches'}")
            files = []
            for f in manifest.files:
                zenodo_file = published.zenodo_file(f.name)
                files.append({"name": f.name, "size": f.size, "sha256": f.sha256, "role": f.role, "media_type": f.media_type,
                              "zenodo_url": zenodo_file.url if zenodo_file else None,
                              "release_url": publisher.store.public_url(published.release_key(f.name))})
            rows.append({
                "dataset": spec.id, "version": version, "doi": record.doi, "concept_doi": record.concept_doi,
                "zenodo_record_url": record.record_url, "sha256": primary.sha256, "size": primary.size, "files": files,
                "infohash_v1": torrent.info.infohash_v1, "infohash_v2": torrent.info.infohash_v2,
                "magnet": torrent.magnet, "torrent_path": local_path(published.keys.torrent),
                "torrent_v1_path": local_path(published.torrent_v1.key) if published.torrent_v1 else None,
                "web_seeds": list(torrent.info.web_seeds), "downloaded_sha256_matches": not wrong,
            })
    return rows, failures


def run_demo(workdir: Path, *, say: Callable[[str], None] = print) -> DemoReport:
    specs = list(load_registry())
    with embedded(workdir, say) as run:
        failures = publish_current_versions(run, specs, say)
        failure = run.build_catalog()
        if failure:
            failures.append(failure)
        with PublisherResource().open(say) as publisher:
            rows, torrent_failures = check_torrents(publisher, specs, say)
        catalog_path = Path(run.settings.local_store_root or "") / CATALOG
        catalog_rows = pq.read_metadata(catalog_path).num_rows if catalog_path.exists() else 0
        return DemoReport(str(catalog_path), catalog_rows, rows, failures + torrent_failures)
