"""Benchmark: streaming a large StatCan-shaped table zip to Parquet, memory and throughput.

Two inputs, made in a scratch folder:
  real-repeated  the real table 33100036 (sample_data) with its rows repeated --repeat times (40 ~ 528 MB of CSV)
  synthetic      a generated table of the same 15-column shape, --synthetic-mb of CSV (default 1500)

Contenders, each in its own process so its peak RSS (ru_maxrss) is its own:
  ours            dfc_assets statcan_table_to_parquet, reading the zip (decompressing as it goes)
  duckdb          COPY (FROM read_csv(extracted csv, types as ours)) TO parquet (zstd), on the already-extracted CSV
  pyarrow-read    pyarrow.csv.read_csv of the extracted CSV + write_table (everything in memory)

Best of --rounds (interleaved). Prints seconds, MB/s of CSV text and peak RSS for each, and ours/duckdb ratios.
Run: python benchmarks/transform_table_memory.py [--repeat 40] [--synthetic-mb 1500] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_ZIP = REPO / "dfc_assets" / "sample_data" / "statcan" / "33100036-eng.zip"
HEADER = '"REF_DATE","GEO","DGUID","Type of currency","UOM","UOM_ID","SCALAR_FACTOR","SCALAR_ID","VECTOR","COORDINATE","VALUE","STATUS","SYMBOL","TERMINATED","DECIMALS"\n'
ROUNDS = 1
DUCKDB_TYPES = {"UOM_ID": "SMALLINT", "SCALAR_ID": "TINYINT", "VALUE": "DOUBLE", "DECIMALS": "TINYINT"}


def make_real_repeated(out_zip: Path, repeat: int) -> int:
    body = zipfile.ZipFile(REAL_ZIP).read("33100036.csv")
    header, rows = body.split(b"\n", 1)
    with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("33100036.csv", "w", force_zip64=True) as member:
            member.write(header + b"\n")
            for _ in range(repeat):
                member.write(rows)
    return len(header) + 1 + len(rows) * repeat


def make_synthetic(out_zip: Path, megabytes: int) -> int:
    rng = random.Random(36)
    currencies = [f"Currency {i} per Canadian dollar" for i in range(60)]
    written = 0
    with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("33100036.csv", "w", force_zip64=True) as member:
            member.write(b"\xef\xbb\xbf" + HEADER.encode())
            day = 0
            while written < megabytes * 1_000_000:
                lines = []
                for _ in range(20_000):
                    day += 1
                    series = day % 60
                    year, month, dom = 1950 + (day // 336) % 75, (day // 28) % 12 + 1, day % 28 + 1
                    missing = rng.random() < 0.12
                    value = "" if missing else f"{rng.uniform(0.001, 2000):.8f}"
                    lines.append(
                        f'"{year}-{month:02d}-{dom:02d}","Canada","2016A000011124","{currencies[series]}","Dollars","81","units","0",'
                        f'"v{111666000 + series}","1.{series + 1}","{value}","{".." if missing else ""}","","{"t" if series % 7 == 0 else ""}","{rng.choice((4, 5, 6, 8))}"\n'
                    )
                chunk = "".join(lines).encode()
                member.write(chunk)
                written += len(chunk)
    return written


def extract(zip_path: Path, out_csv: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive, archive.open("33100036.csv") as source, open(out_csv, "wb") as target:
        while chunk := source.read(16 * 1024 * 1024):
            target.write(chunk)


def run_contender(kind: str, source: str, out: str) -> dict:
    start = time.perf_counter()
    if kind == "ours":
        from dfc_assets.transform.statcan_table import statcan_table_to_parquet

        rows = statcan_table_to_parquet(Path(source), Path(out), product_id="33100036").rows
    elif kind == "duckdb":
        import duckdb

        types = ", ".join(f"'{name}': '{kind_}'" for name, kind_ in DUCKDB_TYPES.items())
        connection = duckdb.connect()
        connection.execute(
            f"COPY (FROM read_csv('{source}', header=true, all_varchar=false, types={{{types}}}, auto_detect=true)) "
            f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
        )
        rows = connection.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    elif kind == "pyarrow-read":
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        types = {"UOM_ID": pa.int16(), "SCALAR_ID": pa.int8(), "VALUE": pa.float64(), "DECIMALS": pa.int8()}
        table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False))
        pq.write_table(table, out, compression="zstd")
        rows = table.num_rows
    else:
        raise SystemExit(f"unknown contender {kind}")
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(kind: str, source: Path, out: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--contender", kind, str(source), str(out)], capture_output=True, text=True,
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if completed.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bench(name: str, zip_path: Path, csv_bytes: int, work: Path) -> None:
    csv_path = work / f"{name}.csv"
    started = time.perf_counter()
    extract(zip_path, csv_path)
    unzip_seconds = time.perf_counter() - started
    mb = csv_bytes / 1e6
    print(f"\n== {name}: {mb:,.0f} MB of CSV ({zip_path.stat().st_size / 1e6:,.0f} MB zipped)")
    results: dict[str, dict] = {}
    for _ in range(ROUNDS):  # interleaved, best of ROUNDS: the machine may be shared
        for kind, source in (("ours", zip_path), ("duckdb", csv_path), ("pyarrow-read", csv_path)):
            out = work / f"{name}-{kind}.parquet"
            figures = measure(kind, source, out) | {"size": out.stat().st_size}
            out.unlink()
            if kind not in results or figures["seconds"] < results[kind]["seconds"]:
                results[kind] = figures
    for kind, figures in results.items():
        print(f"{kind:13s} rows {figures['rows']:>12,}  {figures['seconds']:7.1f} s  {mb / figures['seconds']:7.1f} MB/s  "
              f"peak RSS {figures['peak_rss_mib']:7.0f} MiB  output {figures['size'] / 1e6:7.1f} MB")
    ours, duck = results["ours"], results["duckdb"]
    print(f"throughput ours/duckdb = {duck['seconds'] / ours['seconds']:.2f}x (goal >= 1.0; DuckDB reads the extracted CSV, ours the zip)")
    print(f"throughput ours/(unzip + duckdb) = {(duck['seconds'] + unzip_seconds) / ours['seconds']:.2f}x (unzip {unzip_seconds:.1f} s)")
    print(f"peak RSS ours = {ours['peak_rss_mib']:.0f} MiB (goal <= 512), duckdb {duck['peak_rss_mib']:.0f} MiB, "
          f"pyarrow read_csv {results['pyarrow-read']['peak_rss_mib']:.0f} MiB")
    csv_path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contender", nargs=3, metavar=("KIND", "SOURCE", "OUT"))
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--synthetic-mb", type=int, default=1500)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    global ROUNDS
    ROUNDS = args.rounds
    if args.contender:
        print(json.dumps(run_contender(*args.contender)))
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dfc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"cpus {os.cpu_count()}, scratch {work}")
    if args.repeat:
        started = time.perf_counter()
        size = make_real_repeated(work / "real.zip", args.repeat)
        print(f"made real x{args.repeat} in {time.perf_counter() - started:.0f} s")
        bench("real-repeated", work / "real.zip", size, work)
        (work / "real.zip").unlink()
    if args.synthetic_mb:
        started = time.perf_counter()
        size = make_synthetic(work / "synthetic.zip", args.synthetic_mb)
        print(f"made synthetic in {time.perf_counter() - started:.0f} s")
        bench("synthetic", work / "synthetic.zip", size, work)
        (work / "synthetic.zip").unlink()


if __name__ == "__main__":
    main()
