"""http_file CSV -> Parquet (two streamed passes: type inference over every row, then the write) against DuckDB.

Anchor, same file, same run: DuckDB ``COPY (FROM read_csv(path, sample_size=-1)) TO 'x.parquet'`` (also a full-file
type detection). Prints both times, the ratio (ours / DuckDB; below 1 is faster) and our peak RSS delta.
Run: python benchmarks/transform_csv_file.py [--rows 3000000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.transform.tabular_file import csv_file_to_parquet  # noqa: E402


def synthetic_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as out:
        out.write("id,code,name,amount,ratio,region\n")
        for i in range(rows):
            out.write(f"{i},{rng.randint(0, 99999):05d},Place {i % 5000},{rng.randint(-10**6, 10**6)},{rng.random():.6f},R{i % 13}\n")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=3_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "places.csv"
        synthetic_csv(source, args.rows)
        size_mb = source.stat().st_size / 1e6
        rss_before = peak_rss_mib()
        started = time.perf_counter()
        result = csv_file_to_parquet(source, Path(work) / "ours.parquet")
        ours = time.perf_counter() - started
        rss_after = peak_rss_mib()
        connection = duckdb.connect()
        started = time.perf_counter()
        connection.execute(f"COPY (FROM read_csv('{source}', sample_size=-1)) TO '{Path(work) / 'duck.parquet'}' (FORMAT parquet)")
        anchor = time.perf_counter() - started
    print(f"CSV {size_mb:.0f} MB, {result.rows} rows: ours {ours:.2f} s ({size_mb / ours:.0f} MB/s), "
          f"DuckDB COPY {anchor:.2f} s ({size_mb / anchor:.0f} MB/s), ratio {ours / anchor:.2f}x; "
          f"peak RSS grew {rss_after - rss_before:.0f} MiB (to {rss_after:.0f} MiB)")


if __name__ == "__main__":
    main()
