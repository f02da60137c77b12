"""Bytes read over HTTP (loopback Range server) from a 100,000-row catalog by the DuckDB recipes.

Queries: all versions of one dataset; the latest DOI of one dataset; the footer. Ours (sorted by dataset then
version, zstd, row groups sized from the row count) against, in the same run, the same items written by stac-geoparquet (schema="FullFile") with its
defaults (one row group, snappy) — the anchor — and the whole file size. Goal: all versions <= 256 KB.
Row groups are cut between datasets, so only a dataset longer than a row group spans two; such a dataset is
measured too when the file has one (try --versions 47 with the pre-alignment writer to see what crossing costs).
Run: python benchmarks/catalog_http_bytes.py [--datasets 2000] [--versions 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog_synthetic import synthetic_catalog  # noqa: E402
from stac_geoparquet.arrow import parse_stac_items_to_parquet  # noqa: E402

from dfc_assets.catalog import query  # noqa: E402
from dfc_assets.catalog.geoparquet import write_catalog  # noqa: E402
from dfc_assets.catalog.version_links import link_versions  # noqa: E402
from dfc_assets_tests.catalog.catalog_http import counting_file_server  # noqa: E402


def measure(url: str, log, label: str, dataset_id: str, versions: int) -> dict[str, int]:
    out = {}
    for name, call, check in (
        ("all versions", lambda: query.all_versions(url, dataset_id), lambda r: len(r) == versions),
        ("latest DOI", lambda: query.latest_doi(url, dataset_id), lambda r: r is not None),
        ("footer", lambda: query.footer(url), lambda r: "version" in r),
    ):
        log.clear()
        result = call()
        assert check(result), f"{label} {name}: unexpected result"
        gets = sum(1 for r in log.requests if r[0] == "GET")
        out[name] = log.body_bytes
        print(f"  {label:16s} {name:13s} {log.body_bytes / 1024:9.1f} KiB in {gets} GETs")
    return out


def straddling_dataset(path: Path) -> str | None:
    """A dataset with rows on both sides of a row-group boundary, if any."""
    metadata = pq.read_metadata(path)
    collections = pq.read_table(path, columns=["collection"]).column("collection").to_pylist()
    boundary = 0
    for index in range(metadata.num_row_groups - 1):
        boundary += metadata.row_group(index).num_rows
        if collections[boundary - 1] == collections[boundary]:
            return collections[boundary]
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--versions", type=int, default=50)
    args = parser.parse_args()
    items, collections = synthetic_catalog(args.datasets, args.versions)
    dataset_id = items[len(items) // 2]["collection"]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        ours = write_catalog(items, collections, folder / "ours.parquet")
        parse_stac_items_to_parquet(link_versions(items), output_path=folder / "anchor.parquet", schema="FullFile")
        anchor_size = (folder / "anchor.parquet").stat().st_size
        server, log = counting_file_server(folder)
        server.start()
        try:
            print(f"{len(items):,} rows; ours {ours.size / 1e6:.2f} MB, anchor {anchor_size / 1e6:.2f} MB; dataset {dataset_id}")
            mine = measure(f"{server.base_url}/ours.parquet", log, "ours", dataset_id, args.versions)
            theirs = measure(f"{server.base_url}/anchor.parquet", log, "stac-geoparquet", dataset_id, args.versions)
            crossing = straddling_dataset(folder / "ours.parquet")
            print(f"{pq.read_metadata(folder / 'ours.parquet').num_row_groups} row groups; dataset across a boundary: {crossing}")
            if crossing:
                worst = measure(f"{server.base_url}/ours.parquet", log, "ours, crossing", crossing, args.versions)
        finally:
            server.stop()
    for name in mine:
        print(f"{name:13s} ours/anchor {mine[name] / theirs[name]:.3f}   ours/whole file {mine[name] / ours.size:.4f}")
    print(f"all versions: {mine['all versions'] / 1024:.1f} KiB (goal <= 256 KiB)"
          + (f"; across a row-group boundary {worst['all versions'] / 1024:.1f} KiB" if crossing else ""))


if __name__ == "__main__":
    main()
