"""One tick of the upstream sensor over 10,000 sources with 50 changed: seconds, upstream requests, store requests.

The whole Dagster side of a tick (defs/automation.evaluate_sources): the state object read and written once,
one get_dynamic_partitions per shard, the cube-list snapshot, the registry's O(changed) change checks, the
release cadence, run requests and partition adds. Upstream is the sample-source server's synthetic WDS of
10,000 tables on loopback (one statcan_tables collection); the store is a local folder whose every call is
counted. Tick 1 sees every table for the first time (10,000 first versions; its partitions are then added
as the daemon would); 50 tables then release; tick 2 is the one measured. The anchor is the same measured
tick over a collection of 2 tables, in the same run. Issue 11 asks for <= 20 s and O(changed) requests.
Run: python benchmarks/sensor_tick.py [--tables 10000] [--changed 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url  # noqa: E402
from dfc_assets.services.synthetic_wds import publish_synthetic_release, synthetic_product_ids  # noqa: E402
from dfc_assets.settings import Settings  # noqa: E402
from dfc_assets.storage import LocalFolderStore  # noqa: E402

COLLECTION = """collections:
  - key: statcan_tables
    kind: statcan_tables
    producer: Statistics Canada
    license: OGL-Canada-2.0
    filters: {filters}
"""


class CountingStore:
    """The local folder store, counting every call (what S3 would bill as requests)."""

    def __init__(self, store: LocalFolderStore) -> None:
        self.store, self.calls = store, Counter()

    def __getattr__(self, name: str):
        attribute = getattr(self.store, name)
        if not callable(attribute) or name in ("public_url", "describe"):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attribute(*args, **kwargs)
        return counted


class BenchmarkPublisher:
    """What evaluate_sources asks of PublisherResource: the settings and the store."""

    def __init__(self, settings: Settings, store: CountingStore) -> None:
        self._settings, self._store = settings, store

    def settings(self) -> Settings:
        return self._settings

    def store(self):
        return self._store


def upstream_counter() -> Counter:
    calls: Counter = Counter()
    send = httpx.Client.send

    def counting_send(self, request, *args, **kwargs):
        calls[request.url.path.rsplit("/", 1)[-1]] += 1
        return send(self, request, *args, **kwargs)

    httpx.Client.send = counting_send
    return calls


def measure(work: Path, tables: int, changed: int, upstream: Counter) -> dict:
    root = work / "sources"
    seed_sources(root, synthetic_tables=tables, synthetic_seed=1)
    ids = synthetic_product_ids(root, include_archived=True)
    filters = "{include_archived: true, product_ids: [" + ", ".join(f'"{pid}"' for pid in ids[:tables]) + "]}"
    registry = work / "registry.yaml"
    registry.write_text(COLLECTION.format(filters=filters), encoding="utf-8")
    os.environ["DFC_REGISTRY"] = str(registry)
    os.environ["DFC_CACHE_DIR"] = str(work / "cache")
    from dfc_assets.defs.automation import evaluate_sources
    from dfc_assets.defs.registry_view import shards
    from dfc_assets.registry import forget_registered_datasets

    forget_registered_datasets()
    server = sample_source_server(root).start()
    try:
        settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                            local_store_root=str(work / "store"), wds_base_url=wds_base_url(server.base_url), sources_base_url=server.base_url)
        store = CountingStore(LocalFolderStore(work / "store", settings.public_base_url))
        publisher = BenchmarkPublisher(settings, store)
        with dg.DagsterInstance.ephemeral() as instance:
            context = dg.build_sensor_context(instance=instance)
            started = time.perf_counter()
            first, _ = evaluate_sources(context, publisher, shards(), "benchmark")
            first_seconds = time.perf_counter() - started
            for item in first:  # what the daemon does with the tick's dynamic_partitions_requests
                from dfc_assets.partitions import partitions_name, shard_of

                instance.add_dynamic_partitions(partitions_name(shard_of(item.spec)), [item.partition_key])
            now = datetime.now(timezone.utc)
            publish_synthetic_release(root, ids[:changed], now - timedelta(hours=1))
            upstream.clear()
            store.calls.clear()
            started = time.perf_counter()
            second, report = evaluate_sources(context, publisher, shards(), "benchmark", now=now)
            seconds = time.perf_counter() - started
    finally:
        server.stop()
    return {"first_versions": len(first), "first_seconds": first_seconds, "seconds": seconds, "new": len(second),
            "upstream": sum(upstream.values()), "upstream_calls": dict(upstream), "store": sum(store.calls.values()),
            "store_calls": dict(store.calls), "shards": len(shards())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=50)
    args = parser.parse_args()
    upstream = upstream_counter()
    with tempfile.TemporaryDirectory() as big, tempfile.TemporaryDirectory() as small:
        figures = measure(Path(big), args.tables, args.changed, upstream)
        anchor = measure(Path(small), 2, 2, upstream)
    print(f"first tick over {args.tables:,} sources: {figures['first_versions']:,} first versions in {figures['first_seconds']:.1f} s (not the measured tick)")
    print(f"tick over {args.tables:,} sources, {args.changed} changed: {figures['seconds']:.2f} s, {figures['new']} new versions, "
          f"{figures['upstream']} upstream requests {figures['upstream_calls']}, {figures['store']} store requests {figures['store_calls']}, "
          f"{figures['shards']} shards (one get_dynamic_partitions each)")
    print(f"anchor, tick over 2 sources, 2 changed: {anchor['seconds']:.2f} s, {anchor['upstream']} upstream requests, {anchor['store']} store requests")
    print(f"ratio: {figures['seconds'] / anchor['seconds']:.1f}x the time for {args.tables / 2:,.0f}x the sources (goal: <= 20 s)")


if __name__ == "__main__":
    main()
