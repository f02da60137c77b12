"""Synthetic catalog for the catalog benchmarks: N datasets x V versions of realistic items (built with build_item)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.catalog.collection import build_collection  # noqa: E402
from dfc_assets.catalog.item import build_item  # noqa: E402
from dfc_assets_tests.catalog.catalog_samples import dataset_facts, version_facts  # noqa: E402

REGIONS = [(-141.01, 41.68, -52.62, 83.11), (-95.16, 41.68, -74.34, 56.86), (-79.76, 44.99, -57.1, 62.59),
           (-139.06, 48.3, -114.03, 60.0), (-74.0, 45.4, -73.47, 45.71), (-79.64, 43.58, -79.12, 43.86)]


def synthetic_catalog(datasets: int, versions: int) -> tuple[list[dict], list[dict]]:
    items: list[dict] = []
    collections: list[dict] = []
    for d in range(datasets):
        dataset_id = f"ca_statcan_synthetic_{d:06d}"
        mine = []
        for v in range(versions):
            facts = version_facts(dataset_id, f"{2000 + v // 12}-{v % 12 + 1:02d}-11", record=1_000_000 + d * versions + v,
                                  bbox=REGIONS[d % len(REGIONS)], mirrors=(d + v) % 3)
            if v % 5 == 0:
                facts = replace(facts, infohash_v2=None)
            mine.append(build_item(facts))
        items += mine
        collections.append(build_collection(dataset_facts(dataset_id), mine))
    return items, collections
