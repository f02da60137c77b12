"""One change-detection tick over N StatCan tables with C of them changed (synthetic WDS on loopback).

Prints the tick's seconds, its upstream requests and store requests (none: the known state comes in as
arguments), and as the anchor the same tick over 2 tables in the same run (the ratio shows how the cost grows
with N). Issue 11 asks for a tick over 10,000 sources within 20 s and O(changed) upstream requests.
Run: python benchmarks/sources_change_check.py [--tables 10000] [--changed 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.registry import Registry, StatcanTablesCollection, fetch_cube_list  # noqa: E402
from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url  # noqa: E402
from dfc_assets.services.synthetic_wds import publish_synthetic_release, synthetic_product_ids  # noqa: E402
from dfc_assets.settings import Settings  # noqa: E402
from dfc_assets.sources.change import KnownVersions, check_all  # noqa: E402

NOW = datetime(2025, 6, 20, 16, 0, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "sources"
        seed_sources(root, synthetic_tables=args.tables, synthetic_seed=1)
        server = sample_source_server(root).start()
        requests: list[httpx.Request] = []
        settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                            wds_base_url=wds_base_url(server.base_url), sources_base_url=server.base_url)
        try:
            with httpx.Client() as client:
                snapshot = fetch_cube_list(client, settings.wds_base_url)
            collection = StatcanTablesCollection(key="tables", producer="Statistics Canada", license="OGL-Canada-2.0", include_archived=True)
            specs = Registry(path=root, entries=(), collections=(collection,)).datasets(snapshot)[: args.tables]
            first = check_all(specs, settings, states={}, known={}, now=NOW, cube_list=snapshot)
            states = {check.dataset: check.state for check in first}
            known = {check.dataset: KnownVersions((check.new_version,)) for check in first}
            publish_synthetic_release(root, synthetic_product_ids(root)[: args.changed], datetime(2025, 6, 20, 12, 30, tzinfo=timezone.utc))

            def tick(subset):
                requests.clear()
                started = time.perf_counter()
                checks = check_all(subset, settings, states=states, known=known, now=NOW, cube_list=snapshot,
                                   client_factory=lambda timeout: httpx.Client(timeout=timeout, event_hooks={"request": [requests.append]}))
                return time.perf_counter() - started, len(requests), sum(1 for check in checks if check.new_version)

            seconds, upstream, new = tick(specs)
            anchor, anchor_upstream, _ = tick(specs[:2])
        finally:
            server.stop()
    print(f"tick over {len(specs)} tables, {args.changed} changed: {seconds:.2f} s, {upstream} upstream requests, 0 store requests, {new} new releases")
    print(f"anchor, tick over 2 tables: {anchor:.2f} s, {anchor_upstream} upstream requests")
    print(f"ratio: {seconds / anchor:.1f}x the time for {len(specs) / 2:.0f}x the tables")


if __name__ == "__main__":
    main()
