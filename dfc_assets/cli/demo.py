"""`dfc demo`: publish every registry dataset end to end through Dagster on the embedded default, then check every torrent."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from dfc_assets.cli.embedded import Embedded, embedded
from dfc_assets.defs.resources import USER_AGENT, PublisherResource, object_store
from dfc_assets.publication.context import Publisher
from dfc_assets.publication.torrent import load_torrent
from dfc_assets.registry import DatasetSpec, ensure_cube_list, load_registry, registered_datasets
from dfc_assets.sources import current_release
from dfc_assets.storage import CATALOG
from dfc_assets.torrent.download import download_from_web_seeds

@dataclass
class DemoReport:
    catalog_path: str
    catalog_rows: int
    versions: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    catalog_url: str | None = None
    event_log: str | None = None
    already_published: int = 0  # current versions every step had already published: no run this time

    def as_json(self) -> dict:
        return {"catalog_path": self.catalog_path, "catalog_url": self.catalog_url, "catalog_rows": self.catalog_rows,
                "versions": self.versions, "failures": self.failures, "event_log": self.event_log,
                "already_published": self.already_published}

    def lines(self) -> list[str]:
        """The report a newcomer reads: per version where it is published, then the catalog and how to look at it."""
        out = []
        for row in self.versions:
            out += [
                "",
                f"{row['dataset_key']} version {row['version']}  ({row['size']} bytes, sha256 {row['sha256'][:16]}…, "
                f"torrent download from web seeds {'matches' if row['downloaded_sha256_matches'] else 'DIFFERS'})",
                f"  DOI         {row['doi']}  (all versions: {row['concept_doi']})",
                f"  Zenodo      {row['zenodo_record_url']}",
                f"  .torrent    {row['torrent_url']}",
                f"  magnet      {row['magnet']}",
                f"  processed/  {row['processed_url'] or 'not moved to this version (a newer one is there)'}",
            ]
        if self.already_published:
            out += ["", f"{self.already_published} of these version(s) were already published (every step done): no run this time"]
        out += ["", f"catalog: {self.catalog_path} ({self.catalog_rows} rows)" + (f", served at {self.catalog_url}" if self.catalog_url else "")]
        example, doi = (self.versions[0]["dataset_key"], self.versions[0]["doi"]) if self.versions else ("DATASET", "DOI")
        out += ["  look at it: `make dev` (the Dagster UI, http://127.0.0.1:3000, on the same store),",
                f"  or `dfc catalog versions {example}`, `dfc catalog links {doi}` (README: Querying the catalog)"]
        if self.event_log:
            out.append(f"Dagster event log: {self.event_log} (and in the UI under Runs)")
        out += [f"FAILED: {failure}" for failure in self.failures]
        return out


def publish_current_versions(run: Embedded, specs: list[DatasetSpec], say: Callable[[str], None]) -> tuple[list[str], int]:
    """Add each dataset's current upstream version as a partition and run its shard's publishing job (several versions
    a run, Embedded.publish_many), for the versions not already published through every step; returns the failures
    and how many versions were already published."""
    failures, current = [], []
    with httpx.Client(timeout=60, headers={"User-Agent": USER_AGENT}) as client:
        for spec in specs:
            try:
                current.append((spec, current_release(spec, run.settings, client).version))
            except Exception as error:  # one failing source never stops the others
                failures.append(f"{spec.key}: {error}")
    todo = run.unfinished(current)
    if len(todo) < len(current):
        say(f"  {len(current) - len(todo)} already published (every step done), {len(todo)} to publish")
    published = run.publish_many(todo, progress=lambda batch: say(f"  {batch}: publishing (raw, parquet, Zenodo, torrent, STAC item) ..."))
    for failure in published:
        say(f"  FAILED: {failure}")
    return failures + published, len(current) - len(todo)


TORRENT_CHECKS_AT_ONCE = 16
"""Torrent downloads the demo's check runs at the same time, each its own libtorrent session, mostly waiting: a small
version takes 0.5 s alone; 88 of them took 0.074 s each 8 at once, 0.040 s 16 at once (3.5 s, load 1.2)."""


def check_torrents(publisher: Publisher, specs: list[DatasetSpec], say: Callable[[str], None]) -> tuple[list[dict], list[str]]:
    """Download every published version from its web seeds only and compare its sha256 (several at a time)."""
    settings = publisher.settings
    rows, failures = [], []

    def local_path(key: str) -> str:
        return str(Path(settings.local_store_root) / key) if settings.local_store_root else publisher.store.public_url(key)

    versions = []
    for spec in specs:
        for published in publisher.published.all_versions(spec.id):
            torrent = load_torrent(publisher, spec, published.version)
            if published.record is None or torrent is None or published.manifest is None:
                failures.append(f"{spec.key} version {published.version}: not fully published")
                continue
            versions.append((spec, published, torrent))

    def download(spec: DatasetSpec, published, torrent) -> dict[str, str]:
        manifest = published.manifest
        downloaded = download_from_web_seeds(torrent.data, publisher.scratch / "downloads" / spec.key / published.version, timeout=180)
        # one file: the file itself; several: the torrent's folder holding every file of the version
        return {f.name: hashlib.sha256((downloaded / f.name if downloaded.is_dir() else downloaded).read_bytes()).hexdigest()
                for f in (manifest.files if downloaded.is_dir() else (manifest.primary,))}

    pool = ThreadPoolExecutor(TORRENT_CHECKS_AT_ONCE, thread_name_prefix="torrent-check")
    try:
        downloads = [pool.submit(download, *entry) for entry in versions]
        for (spec, published, torrent), future in zip(versions, downloads):
            version, manifest, record = published.version, published.manifest, published.record
            try:
                digests = future.result()
            except Exception as error:
                failures.append(f"{spec.key} version {version}: torrent download from web seeds failed: {error}")
                continue
            primary = manifest.primary
            wrong = [f"{f.name} has sha256 {digests[f.name]}, the manifest {f.sha256}" for f in manifest.files if f.name in digests and digests[f.name] != f.sha256]
            failures += [f"{spec.key} version {version}: torrent download: {problem}" for problem in wrong]
            say(f"  {spec.key} {version}: {', '.join(digests)} downloaded from its web seeds only, sha256 {'DIFFERS' if wrong else 'matches'}")
            files = []
            for f in manifest.files:
                zenodo_file = published.zenodo_file(f.name)
                files.append({"name": f.name, "size": f.size, "sha256": f.sha256, "role": f.role, "media_type": f.media_type,
                              "zenodo_url": zenodo_file.url if zenodo_file else None,
                              "release_url": publisher.store.public_url(published.release_key(f.name))})
            pointer = publisher.published.latest(spec.id)
            processed_url = publisher.store.public_url(pointer.files[0].processed_key) if pointer and pointer.version == version else None
            rows.append({
                "dataset": spec.id, "dataset_key": spec.key, "version": version, "doi": record.doi, "concept_doi": record.concept_doi,
                "zenodo_record_url": record.record_url, "sha256": primary.sha256, "size": primary.size, "files": files,
                "infohash_v1": torrent.info.infohash_v1, "infohash_v2": torrent.info.infohash_v2,
                "magnet": torrent.magnet, "torrent_url": torrent.url, "processed_url": processed_url,
                "torrent_path": local_path(published.keys.torrent),
                "torrent_v1_path": local_path(published.torrent_v1.key) if published.torrent_v1 else None,
                "web_seeds": list(torrent.info.web_seeds), "downloaded_sha256_matches": not wrong,
            })
    finally:  # on Ctrl-C, SIGTERM or an error: the downloads under way end, the queued ones never start
        pool.shutdown(wait=True, cancel_futures=True)
    return rows, failures


def quiet_dagster_warnings() -> None:
    """Beta and preview notices of Dagster are for developers of the code location, not for a first run."""
    import dagster as dg

    for category in (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning):
        warnings.filterwarnings("ignore", category=category)


def write_event_log(run: Embedded, path: Path) -> Path:
    """Every Dagster event of the runs this process executed, DEBUG included, as plain lines."""
    import logging

    import dagster as dg

    from dfc_assets.cli.run_liveness import PID_TAG

    path.parent.mkdir(parents=True, exist_ok=True)
    runs = sorted(run.instance.get_runs(dg.RunsFilter(tags={PID_TAG: str(os.getpid())})), key=lambda r: r.run_id)
    with open(path, "w", encoding="utf-8") as out:
        for dagster_run in sorted(runs, key=lambda r: run.instance.get_run_record_by_id(r.run_id).create_timestamp):
            out.write(f"# run {dagster_run.run_id} {dagster_run.job_name} {dagster_run.status.value} tags {dict(dagster_run.tags)}\n")
            for entry in run.instance.all_logs(dagster_run.run_id):
                stamp = datetime.fromtimestamp(entry.timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                event = entry.dagster_event.event_type.name if entry.dagster_event else "LOG"
                message = entry.dagster_event.message if entry.dagster_event and entry.dagster_event.message else entry.user_message
                out.write(f"{stamp} {logging.getLevelName(entry.level)} {dagster_run.run_id[:8]} {entry.step_key or '-'} {event} {message}\n")
    return path


def demo_datasets(settings, say: Callable[[str], None]) -> list[DatasetSpec]:
    """Every registered dataset: the individual entries, and the members of each collection (from the cube list)."""
    registry = load_registry()
    if not registry.collections:
        return list(registry.entries)
    store = object_store(settings)
    with httpx.Client(timeout=60, headers={"User-Agent": USER_AGENT}) as client:
        snapshot = ensure_cube_list(store, client, settings.wds_base_url)
    specs = list(registered_datasets(store))
    say(f"registry: {len(registry.entries)} dataset(s) and {len(registry.collections)} collection(s) over {len(snapshot.cubes)} "
        f"WDS cubes: {len(specs)} datasets")
    return specs


def run_demo(workdir: Path, *, say: Callable[[str], None] = print) -> DemoReport:
    quiet_dagster_warnings()
    workdir = Path(workdir)
    event_log = workdir.resolve() / "logs" / f"demo-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.log"
    with embedded(workdir, say, console_log_level="CRITICAL") as run:
        specs = demo_datasets(run.settings, say)
        try:
            say(f"publishing {len(specs)} dataset(s) through Dagster (event log: {event_log})")
            failures, already = publish_current_versions(run, specs, say)
            say("  catalog: rebuilding ...")
            failure = run.build_catalog()
            if failure:
                failures.append(failure)
            say("checking every torrent: a download from its web seeds only (no peer, no tracker)")
            with PublisherResource().open(lambda message: None) as publisher:
                rows, torrent_failures = check_torrents(publisher, specs, say)
                catalog_url = publisher.store.public_url(CATALOG)
        finally:
            write_event_log(run, event_log)
        catalog_path = Path(run.settings.local_store_root or "") / CATALOG
        catalog_rows = pq.read_metadata(catalog_path).num_rows if catalog_path.exists() else 0
        return DemoReport(str(catalog_path), catalog_rows, rows, failures + torrent_failures, catalog_url, str(event_log), already)
