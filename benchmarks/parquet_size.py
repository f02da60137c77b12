"""Benchmark: table Parquet size and read time, ours against DuckDB's own zstd Parquet of the same tables, in one run.

Tables (made in a scratch folder): the real 33100036 (sample_data), the same repeated --repeat times, and the
synthetic StatCan-shaped table of transform_table_memory.py (--synthetic-mb of CSV).

Files compared for each table:
  ours             statcan_table_to_parquet (the published layout)
  before           the same rows with the layout of TRANSFORM_CODE_VERSION 1 (pyarrow's default of 20,000
                   rows per page): "no slower to read than today"
  duckdb-copy      DuckDB COPY of our table TO parquet (COMPRESSION zstd): the same columns and types
  duckdb-csv       DuckDB COPY (FROM read_csv(the CSV, types as ours)) TO parquet (zstd): DuckDB's own reading

Read time, best of --rounds (interleaved): pyarrow ``pq.read_table`` (every column) and DuckDB
``SELECT bit_xor(hash(COLUMNS(*)))`` (every value decoded). Prints sizes and ratios to each anchor.
Run: python benchmarks/parquet_size.py [--repeat 20] [--synthetic-mb 150] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(Path(__file__).resolve().parent)]

from transform_table_memory import DUCKDB_TYPES, REAL_ZIP, make_real_repeated, make_synthetic  # noqa: E402

from dfc_assets.transform.csv_stream import PARQUET_WRITER_OPTIONS, ROW_GROUP_ROWS, column_encodings  # noqa: E402
from dfc_assets.transform.statcan_table import statcan_table_to_parquet  # noqa: E402


def write_before(table_path: Path, out: Path) -> None:
    """The rows of ``table_path`` in the layout of TRANSFORM_CODE_VERSION 1."""
    table = pq.read_table(table_path)
    encodings = column_encodings(table.schema)
    options = {**PARQUET_WRITER_OPTIONS, "max_rows_per_page": 20_000}
    with pq.ParquetWriter(
        out, table.schema, use_dictionary=[n for n, e in encodings.items() if e == "RLE_DICTIONARY"],
        column_encoding={n: e for n, e in encodings.items() if e == "DELTA_BINARY_PACKED"} or None, **options,
    ) as writer:
        for start in range(0, table.num_rows, ROW_GROUP_ROWS):
            chunk = table.slice(start, ROW_GROUP_ROWS)
            writer.write_table(chunk, row_group_size=chunk.num_rows)


def duckdb_copy(table_path: Path, out: Path) -> None:
    duckdb.connect().execute(f"COPY (FROM read_parquet('{table_path}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")


def duckdb_from_csv(zip_path: Path, member: str, out: Path, work: Path) -> None:
    csv_path = Path(zipfile.ZipFile(zip_path).extract(member, work / "extracted"))
    types = ", ".join(f"'{name}': '{kind}'" for name, kind in DUCKDB_TYPES.items())
    duckdb.connect().execute(f"COPY (FROM read_csv('{csv_path}', header=true, types={{{types}}})) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
    csv_path.unlink()


def read_seconds(path: Path, rounds: int) -> tuple[float, float]:
    best_arrow = best_duck = float("inf")
    connection = duckdb.connect()
    for _ in range(rounds):
        started = time.perf_counter()
        pq.read_table(path)
        best_arrow = min(best_arrow, time.perf_counter() - started)
        started = time.perf_counter()
        connection.execute(f"SELECT bit_xor(hash(COLUMNS(*))) FROM read_parquet('{path}')").fetchall()
        best_duck = min(best_duck, time.perf_counter() - started)
    return best_arrow, best_duck


def bench(name: str, zip_path: Path, product_id: str, work: Path, rounds: int) -> None:
    files = {"ours": work / f"{name}-ours.parquet"}
    result = statcan_table_to_parquet(zip_path, files["ours"], product_id=product_id)
    files["before"] = work / f"{name}-before.parquet"
    write_before(files["ours"], files["before"])
    files["duckdb-copy"] = work / f"{name}-duckdb-copy.parquet"
    duckdb_copy(files["ours"], files["duckdb-copy"])
    files["duckdb-csv"] = work / f"{name}-duckdb-csv.parquet"
    duckdb_from_csv(zip_path, f"{product_id}.csv", files["duckdb-csv"], work)
    times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in files}
    for _ in range(rounds):  # interleaved: the machine may be shared
        for kind, path in files.items():
            times[kind].append(read_seconds(path, 1))
    print(f"\n== {name}: {result.rows:,} rows")
    ours_size = files["ours"].stat().st_size
    best = {kind: (min(t[0] for t in runs), min(t[1] for t in runs)) for kind, runs in times.items()}
    for kind, path in files.items():
        size = path.stat().st_size
        arrow, duck = best[kind]
        print(f"{kind:12s} {size / 1e6:9.3f} MB  ours/this size {ours_size / size:5.3f}   pyarrow read {arrow * 1000:8.1f} ms"
              f"  (ours/this {best['ours'][0] / arrow:5.2f})   DuckDB read {duck * 1000:8.1f} ms  (ours/this {best['ours'][1] / duck:5.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--synthetic-mb", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dfc-parquet-size-") as scratch:
        work = Path(scratch)
        bench("33100036", REAL_ZIP, "33100036", work, args.rounds)
        make_real_repeated(work / "repeated.zip", args.repeat)
        bench(f"33100036 x{args.repeat}", work / "repeated.zip", "33100036", work, args.rounds)
        make_synthetic(work / "synthetic.zip", args.synthetic_mb)
        bench(f"synthetic {args.synthetic_mb} MB", work / "synthetic.zip", "33100036", work, args.rounds)


if __name__ == "__main__":
    main()
