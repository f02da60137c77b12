"""Rebuild time of the catalog file from 100,000 items: ours (write_catalog) against stac-geoparquet.

Anchor, same items, same process, interleaved rounds: stac_geoparquet.arrow.parse_stac_items_to_parquet with
schema="FullFile" (its default "FirstBatch" fails with "Batch Schemas Not Equal" on these items) and otherwise
its defaults (snappy), on the items already version-linked, so both write the same content; ours includes
link_versions, the pinned-schema conversion, zstd and the atomic replace.
Prints median seconds, file sizes, ours/anchor and the median of the per-round ratios (rounds interleave, so
each pair shares the machine's load) (goal <= 0.5).
Run: python benchmarks/catalog_rebuild.py [--datasets 2000] [--versions 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_synthetic import synthetic_catalog  # noqa: E402
from stac_geoparquet.arrow import parse_stac_items_to_parquet  # noqa: E402

from dfc_assets.catalog.geoparquet import write_catalog  # noqa: E402
from dfc_assets.catalog.version_links import link_versions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    items, collections = synthetic_catalog(args.datasets, args.versions)
    linked = link_versions(items)
    print(f"{len(items):,} items from {args.datasets:,} datasets built in {time.perf_counter() - started:.1f} s (not timed below)")
    ours, anchor = [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # Warm-up: both libraries pay one-time initialisation (pyarrow type inference, imports) outside the timing.
        write_catalog(items[:200], collections, folder / "warm.parquet")
        parse_stac_items_to_parquet(linked[:200], output_path=folder / "warm-anchor.parquet", schema="FullFile")
        for round_ in range(args.rounds):
            t = time.perf_counter()
            written = write_catalog(items, collections, folder / "ours.parquet")
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            parse_stac_items_to_parquet(linked, output_path=folder / "anchor.parquet", schema="FullFile")
            anchor.append(time.perf_counter() - t)
            print(f"round {round_ + 1}: ours {ours[-1]:.2f} s, stac-geoparquet {anchor[-1]:.2f} s, ratio {ours[-1] / anchor[-1]:.2f}")
        anchor_size = (folder / "anchor.parquet").stat().st_size
    o, a = statistics.median(ours), statistics.median(anchor)
    paired = statistics.median(x / y for x, y in zip(ours, anchor))
    print(f"median ours {o:.2f} s  stac-geoparquet {a:.2f} s  ratio ours/anchor {o / a:.2f}, median of round ratios {paired:.2f} "
          f"(goal <= 0.50; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"file size ours {written.size / 1e6:.2f} MB (zstd, {written.rows:,} rows)  stac-geoparquet {anchor_size / 1e6:.2f} MB "
          f"(default snappy)  ratio {written.size / anchor_size:.2f}")


if __name__ == "__main__":
    main()
