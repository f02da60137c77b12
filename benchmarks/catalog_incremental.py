"""A catalog update of 100 new items over 100,000 published ones, against a full rebuild of the same catalog.

One run, one local folder store (the embedded default), every store call counted as the S3 requests it would be
(a LIST page holds 1,000 keys) with the bytes it moves:
  1. 100,000 synthetic items (2,000 datasets x 50 versions, `catalog_synthetic`) written under releases/ (not timed);
  2. a first full rebuild: no previous build, so every STAC JSON file and feed is written (today's rebuild);
  3. 100 new items announced, 90 new latest versions and 10 backfilled old versions of 100 datasets (not timed);
  4. the update (`build_catalog`), then the full rebuild of the same catalog (`build_catalog(full=True)`, the
     weekly job); both files must be the same bytes.
Prints seconds, requests and bytes of each, and the ratios update / full rebuild (the anchor, same run).
The store holds only items under releases/: a real bucket has about 6 objects per version there, so a full
rebuild's LIST pages are about 6x those printed; the update does not LIST releases/ at all.
Run: python benchmarks/catalog_incremental.py [--datasets 2000] [--versions 50] [--new 100]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog_synthetic import REGIONS  # noqa: E402

from dfc_assets.catalog.inbox import announce_item  # noqa: E402
from dfc_assets.catalog.item import build_item  # noqa: E402
from dfc_assets.publication.catalog import build_catalog  # noqa: E402
from dfc_assets.publication.context import Publisher  # noqa: E402
from dfc_assets.registry import load_registry  # noqa: E402
from dfc_assets.storage import LocalFolderStore, VersionKeys  # noqa: E402
from dfc_assets_tests.catalog.catalog_samples import version_facts  # noqa: E402

LIST_PAGE_KEYS = 1000


class CountingStore:
    """A LocalFolderStore that counts requests and bytes as an S3 bucket would bill them."""

    def __init__(self, inner: LocalFolderStore) -> None:
        self.inner = inner
        self.requests: Counter[str] = Counter()
        self.down = 0
        self.up = 0

    def reset(self) -> None:
        self.requests.clear()
        self.down = self.up = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def get_bytes(self, key: str) -> bytes:
        self.requests["GET"] += 1
        data = self.inner.get_bytes(key)
        self.down += len(data)
        return data

    def download(self, key: str, path: Path) -> Path:
        self.requests["GET"] += 1
        result = self.inner.download(key, path)
        self.down += path.stat().st_size
        return result

    def put_bytes(self, key: str, data: bytes, **kwargs) -> None:
        self.requests["PUT"] += 1
        self.up += len(data)
        self.inner.put_bytes(key, data, **kwargs)

    def put_file(self, key: str, path: Path, **kwargs) -> None:
        self.requests["PUT"] += 1
        self.up += path.stat().st_size
        self.inner.put_file(key, path, **kwargs)

    def create(self, key: str, data: bytes) -> bool:
        self.requests["PUT"] += 1
        self.up += len(data)
        return self.inner.create(key, data)

    def copy(self, source_key: str, dest_key: str) -> None:
        self.requests["COPY"] += 1  # server-side: no bytes through the writer
        self.inner.copy(source_key, dest_key)

    def head(self, key: str):
        self.requests["HEAD"] += 1
        return self.inner.head(key)

    def delete(self, key: str) -> None:
        self.requests["DELETE"] += 1
        self.inner.delete(key)

    def list(self, prefix: str):
        found = self.inner.list(prefix)
        self.requests["LIST"] += max(1, math.ceil(len(found) / LIST_PAGE_KEYS))
        self.down += 300 * len(found)  # about 300 bytes of ListObjectsV2 XML per key
        return found


def version_key(v: int) -> str:
    return f"{2000 + v // 12}-{v % 12 + 1:02d}-11"  # as catalog_synthetic


def write_item(root: Path, dataset_id: str, version: str, *, record: int, region: int) -> None:
    """Straight to the folder (not through the counted store): seeding is not what is measured."""
    item = build_item(version_facts(dataset_id, version, record=record, bbox=REGIONS[region % len(REGIONS)], mirrors=record % 3))
    path = root / VersionKeys(dataset_id, version).stac_item
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(item))


def timed(label: str, store: CountingStore, call) -> dict:
    store.reset()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    requests = sum(store.requests.values())
    detail = ", ".join(f"{kind} {count:,}" for kind, count in sorted(store.requests.items()))
    print(f"{label}: {seconds:.1f} s, {requests:,} requests ({detail}), {store.down / 1e6:.1f} MB down, {store.up / 1e6:.1f} MB up; "
          f"{result.mode}, {len(result.changed_datasets):,} datasets changed, {len(result.stac_written):,} STAC JSON and "
          f"{len(result.feeds_written):,} feed files written, {result.file.rows:,} rows")
    return {"seconds": seconds, "requests": requests, "bytes": store.down + store.up, "result": result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--new", type=int, default=100)
    args = parser.parse_args()
    base = sorted(load_registry(), key=lambda spec: spec.key)[0]
    ids = [f"ca_statcan_synthetic_{d:06d}" for d in range(args.datasets)]
    specs = [replace(base, key=f"synthetic_{d:06d}", id=dataset_id) for d, dataset_id in enumerate(ids)]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        inner = LocalFolderStore(folder / "store", "http://127.0.0.1:9/dfc/")
        store = CountingStore(inner)
        started = time.perf_counter()
        for d, dataset_id in enumerate(ids):
            for v in range(args.versions):
                write_item(inner.root, dataset_id, version_key(v), record=1_000_000 + d * args.versions + v, region=d)
        print(f"{args.datasets * args.versions:,} items of {args.datasets:,} datasets written in {time.perf_counter() - started:.0f} s "
              f"(not timed); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

        def run(name: str, **kwargs):
            return lambda: build_catalog(Publisher(settings=None, store=store, http=None, zenodo=None,  # type: ignore[arg-type]
                                                   scratch=folder / name, log=lambda m: None), specs, **kwargs)

        timed("first full rebuild (no previous build)", store, run("first"))
        step = max(1, args.datasets // args.new)
        backfills = max(1, args.new // 10)
        for i in range(args.new):
            d = (i * step) % args.datasets
            backfill = i < backfills
            version = "2001-06-20" if backfill else version_key(args.versions)  # between 2001-06-11 and 2001-07-11, or a new latest
            write_item(inner.root, ids[d], version, record=5_000_000 + i, region=d)
            announce_item(inner, ids[d], version)
        print(f"{args.new} new items announced ({backfills} backfilled old versions, {args.new - backfills} new latest versions)")
        update = timed("update", store, run("update"))
        full = timed("full rebuild of the same catalog", store, run("full", full=True))
        same = update["result"].file.sha256 == full["result"].file.sha256
        print(f"same file from the update and the full rebuild: {same} (sha256 {update['result'].file.sha256[:16]})")
        print(f"ratio update / full rebuild: seconds {update['seconds'] / full['seconds']:.3f}, "
              f"requests {update['requests'] / full['requests']:.4f}, bytes {update['bytes'] / full['bytes']:.3f}")
        if not same:
            raise SystemExit("the update and the full rebuild disagree")


if __name__ == "__main__":
    main()
