"""Benchmark: a boundary-style zipped shapefile of >= 50,000 polygons -> GeoParquet 1.1.

Input: --polygons dissemination-area-like polygons (16-vertex rings on a jittered grid over
southern Canada) with DAUID, DGUID, PRUID, LANDAREA, in EPSG:3347, zipped as a shapefile.

Contenders, each in its own process (peak RSS is its own), best of --rounds:
  ours    dfc_assets vector_zip_to_geoparquet (validity check, reprojection, name rule, bbox covering)
  plain   geopandas.read_file(zip) -> to_crs(4326) -> to_parquet() (no covering, no checks)

Run: python benchmarks/transform_vector.py [--polygons 50000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_boundaries(out_zip: Path, count: int) -> None:
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(2021)
    side = math.ceil(math.sqrt(count))
    xs, ys = np.meshgrid(np.arange(side) * 20_000.0 + 3_800_000, np.arange(side) * 12_000.0 + 1_000_000)
    centres = np.column_stack([xs.ravel(), ys.ravel()])[:count] + rng.uniform(-2000, 2000, (count, 2))
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    radii = rng.uniform(3000, 5500, (count, 16))
    rings = np.stack([centres[:, :1] + radii * np.cos(angles), centres[:, 1:] + radii * np.sin(angles)], axis=-1)
    polygons = shapely.polygons(np.round(rings, 2))
    frame = gpd.GeoDataFrame(
        {
            "DAUID": [f"{35000000 + i:08d}" for i in range(count)],
            "DGUID": [f"2021S0512{35000000 + i:08d}" for i in range(count)],
            "PRUID": ["35"] * count,
            "LANDAREA": np.round(shapely.area(polygons) / 1e6, 4),
        },
        geometry=polygons,
        crs="EPSG:3347",
    )
    with tempfile.TemporaryDirectory() as work:
        frame.to_file(Path(work) / "lda_000b21a_e.shp", engine="pyogrio")
        with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in sorted(Path(work).iterdir()):
                archive.write(member, member.name)


def run_contender(kind: str, source: str, out: str) -> dict:
    start = time.perf_counter()
    if kind == "ours":
        from dfc_assets.transform.vector import vector_zip_to_geoparquet

        rows = vector_zip_to_geoparquet(Path(source), Path(out)).rows
    else:
        import geopandas as gpd

        frame = gpd.read_file(source, engine="pyogrio").to_crs("EPSG:4326")
        frame.to_parquet(out)
        rows = len(frame)
    return {"rows": rows, "seconds": time.perf_counter() - start, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(kind: str, source: Path, out: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--contender", kind, str(source), str(out)], capture_output=True, text=True,
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if completed.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contender", nargs=3, metavar=("KIND", "SOURCE", "OUT"))
    parser.add_argument("--polygons", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.contender:
        print(json.dumps(run_contender(*args.contender)))
        return
    with tempfile.TemporaryDirectory(prefix="dfc-bench-vector-") as work_dir:
        work = Path(work_dir)
        source = work / "lda_000b21a_e.zip"
        make_boundaries(source, args.polygons)
        print(f"cpus {os.cpu_count()}; {args.polygons:,} polygons, zip {source.stat().st_size / 1e6:.1f} MB; best of {args.rounds}")
        best: dict[str, dict] = {}
        for _ in range(args.rounds):
            for kind in ("ours", "plain"):
                figures = measure(kind, source, work / f"{kind}.parquet")
                if kind not in best or figures["seconds"] < best[kind]["seconds"]:
                    best[kind] = figures | {"size": (work / f"{kind}.parquet").stat().st_size}
        for kind, figures in best.items():
            print(f"{kind:6s} rows {figures['rows']:>8,}  {figures['seconds']:6.2f} s  {figures['rows'] / figures['seconds']:9,.0f} features/s  "
                  f"peak RSS {figures['peak_rss_mib']:5.0f} MiB  output {figures['size'] / 1e6:5.1f} MB")
        print(f"time ours/plain geopandas = {best['ours']['seconds'] / best['plain']['seconds']:.2f}x (ours adds validity checks, the name rule and the bbox covering)")


if __name__ == "__main__":
    main()
