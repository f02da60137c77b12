"""A prebuilt PMTiles of S bytes published end to end on the embedded default, against the I/O lower bound of the
same run (issue 13.5).

Each size runs in a fresh process (so its peak RSS is its own): local services, a registry of one `prebuilt`
dataset, a valid PMTiles of random (incompressible) tiles served by the sample-source server, then the steps
raw -> parquet -> zenodo_record -> torrent -> stac_item called directly (no Dagster, whose overhead is not
the point). The anchor, measured in the same process right before: one read of the file, one copy into the
store's folder and one streaming PUT into a Zenodo emulator bucket (one read plus one upload to each
destination). Printed per size: seconds per step, total / anchor (goal <= 1.3), peak scratch disk
(temporary folders and the host cache, hard links counted once) / S (goal <= 1.1), peak RSS.
Usage:
  python benchmarks/prebuilt_publish.py [--size-mib 1024] [--small-mib 256]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REGISTRY = """
datasets:
  - key: bench_prebuilt
    id: ca_dfc-bench_2021A000011124_d4c-datapkg-orthoimagery_bench
    title: {en: Benchmark prebuilt PMTiles}
    description: {en: Random tiles in a valid PMTiles archive.}
    producer: Data for Canada
    license: CC0-1.0
    creators: ["Data for Canada"]
    source:
      kind: prebuilt
      url: "{sources_base_url}/bench/big.pmtiles"
"""


def make_pmtiles(path: Path, size: int) -> None:
    """A valid PMTiles v3 of ~``size`` bytes: 1 MiB random tiles at zoom 12 (the check reads header and directories)."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    tile = 1 << 20
    count = max(1, size // tile)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        writer = Writer(handle)
        for i in range(count):
            writer.write_tile(zxy_to_tileid(12, 1000 + i % 64, 1000 + i // 64), os.urandom(tile))
        writer.finalize({"tile_type": TileType.WEBP, "tile_compression": Compression.NONE, "min_lon_e7": -1140000000,
                         "min_lat_e7": 530000000, "max_lon_e7": -1130000000, "max_lat_e7": 540000000, "center_zoom": 12,
                         "center_lon_e7": -1135000000, "center_lat_e7": 535000000}, {"name": "bench"})


class DiskWatch(threading.Thread):
    """Peak bytes on disk under a folder, each inode once."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.running = root, 0, True

    def run(self) -> None:
        while self.running:
            seen, total = set(), 0
            for folder, _, names in os.walk(self.root):
                for name in names:
                    try:
                        stat = os.lstat(os.path.join(folder, name))
                    except FileNotFoundError:
                        continue
                    if stat.st_ino not in seen:
                        seen.add(stat.st_ino)
                        total += stat.st_blocks * 512
            self.peak = max(self.peak, total)
            time.sleep(0.05)


def anchor(path: Path, store_dir: Path, zenodo_url: str, token: str) -> dict:
    import httpx

    started = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        buffer = bytearray(8 << 20)
        while handle.readinto(buffer):
            pass
    read = time.perf_counter() - started
    started = time.perf_counter()
    import shutil

    shutil.copyfile(path, store_dir / "anchor-copy")
    copy = time.perf_counter() - started
    (store_dir / "anchor-copy").unlink()
    headers = {"Authorization": f"Bearer {token}"}
    bucket = httpx.post(f"{zenodo_url}/api/deposit/depositions", json={}, headers=headers).json()["links"]["bucket"]
    started = time.perf_counter()
    with open(path, "rb") as handle:
        httpx.put(f"{bucket}/anchor", content=iter(lambda: handle.read(8 << 20), b""), headers=headers, timeout=600).raise_for_status()
    put = time.perf_counter() - started
    return {"read": read, "store_copy": copy, "zenodo_put": put, "total": read + copy + put}


def child(size: int, workdir: Path) -> dict:
    os.environ["DFC_REGISTRY"] = str(workdir / "registry.yaml")
    (workdir / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
    scratch = workdir / "tmp"
    scratch.mkdir()
    tempfile.tempdir = str(scratch)  # scratch folders and the host cache (publication/scratch.py) live here
    os.environ["DFC_CACHE_DIR"] = str(scratch / "dfc-cache")
    from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices

    with LocalServices(workdir) as urls:
        os.environ["DFC_SERVICES_FILE"] = str(workdir / SERVICES_FILE)
        source = Path(urls.sources_root) / "bench" / "big.pmtiles"
        make_pmtiles(source, size)
        stamp = time.mktime((2025, 8, 10, 12, 0, 0, 0, 0, 0))
        os.utime(source, (stamp, stamp))
        real_size = source.stat().st_size
        bound = anchor(source, Path(urls.store_root), urls.zenodo_url, urls.zenodo_token)

        from dfc_assets.defs.resources import PublisherResource
        from dfc_assets.publication import artifact, raw, stac_item, torrent, zenodo_record
        from dfc_assets.registry import forget_registered_datasets, load_registry

        forget_registered_datasets()
        (spec,) = list(load_registry())
        watch = DiskWatch(scratch)
        watch.start()
        steps = {}
        for name, step in (("raw", raw.archive_raw), ("parquet", artifact.build_artifact), ("zenodo_record", zenodo_record.publish_zenodo),
                           ("torrent", torrent.make_torrent), ("stac_item", stac_item.write_stac_item)):
            started = time.perf_counter()
            with PublisherResource().open(lambda message: None) as publisher:
                step(publisher, spec, "2025-08-10")
            steps[name] = time.perf_counter() - started
        watch.running = False
        watch.join()
    total = sum(steps.values())
    return {"size": real_size, "steps": steps, "total": total, "anchor": bound, "ratio": total / bound["total"],
            "after_artifact": sum(steps[s] for s in ("zenodo_record", "torrent", "stac_item")),
            "scratch_peak": watch.peak, "scratch_ratio": watch.peak / real_size,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-mib", type=int, default=256)
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child is not None:
        with tempfile.TemporaryDirectory(prefix="dfc-bench-prebuilt-") as folder:
            print(json.dumps(child(args.child << 20, Path(folder))))
        return
    results = {}
    for mib in (args.small_mib, args.size_mib):
        out = subprocess.run([sys.executable, __file__, "--child", str(mib)], cwd=REPO, capture_output=True, text=True, check=True)
        results[mib] = json.loads(out.stdout.strip().splitlines()[-1])
    for mib, r in results.items():
        steps = "  ".join(f"{k} {v:.1f}s" for k, v in r["steps"].items())
        print(f"{mib} MiB prebuilt PMTiles: {steps}")
        a = r["anchor"]
        print(f"  end to end {r['total']:.1f}s vs I/O lower bound {a['total']:.1f}s (read {a['read']:.1f}s + store copy "
              f"{a['store_copy']:.1f}s + Zenodo PUT {a['zenodo_put']:.1f}s): {r['ratio']:.2f}x (goal <= 1.3x); "
              f"after the artifact exists {r['after_artifact']:.1f}s")
        print(f"  scratch disk peak {r['scratch_peak'] / 2**20:.0f} MiB = {r['scratch_ratio']:.2f}x the file (goal <= 1.1x); "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB")
    small, big = results[args.small_mib], results[args.size_mib]
    print(f"peak RSS {big['peak_rss_mib']:.0f} MiB at {args.size_mib} MiB vs {small['peak_rss_mib']:.0f} MiB at {args.small_mib} MiB: "
          f"{big['peak_rss_mib'] / small['peak_rss_mib']:.2f}x (flat: ~1.0x)")


if __name__ == "__main__":
    main()
