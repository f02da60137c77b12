"""A prebuilt PMTiles of S bytes published end to end on the embedded default, against the I/O lower bound of the
same run (issue 13.5).

Each size runs in a fresh process (so its peak RSS is its own) beside `dfc services` in its own process, as the
embedded default runs them: a registry of one `prebuilt` dataset, a valid PMTiles of random (incompressible)
tiles served by the sample-source server, then the steps raw -> parquet -> zenodo_record -> torrent -> stac_item
called directly (no Dagster, whose overhead is not the point; the libraries the manifest names are imported
before the clock starts, a fixed few seconds per process).

The anchor, measured in the same process right before: one read of the file where it is (an HTTP GET from the
sample-source server into a local file, as the raw step must land it to check it), one copy into the store's
folder and one streaming PUT into a Zenodo emulator bucket: one read plus one upload to each destination.
The issue's literal anchor with a local-disk read instead of the GET is printed too.

Printed per size: seconds per step; bytes each step read, in units of S (`read()` bytes from /proc/self/io
`rchar`, which counts file reads, not socket `recv` (the raw step's download is not in it), plus the bytes hashing mapped from the page cache, counted by wrapping
`torrent.hashing._map`); total / anchor (goal <= 1.3); peak scratch disk (temporary folders and the host cache,
hard links counted once) / S (goal <= 1.1); peak RSS of the publishing process.
Usage:
  python benchmarks/prebuilt_publish.py [--sizes-mib 512,4096]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
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
BENCH_LOG = os.environ.get("DFC_BENCH_LOG")  # set: the steps' log lines, timed, on stderr


def _log(message: str) -> None:
    if BENCH_LOG:
        print(f"{time.perf_counter():10.2f} {message}", file=sys.stderr)


STEPS = ("raw", "parquet", "zenodo_record", "torrent", "stac_item")


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


class ReadCounter:
    """Bytes this process read: read() calls (/proc/self/io rchar: files and sockets) and hashing's page-cache maps."""

    def __init__(self) -> None:
        from dfc_assets.torrent import hashing

        self.mapped = 0
        original = hashing._map

        def counting(fd: int, offset: int, length: int):
            self.mapped += length
            return original(fd, offset, length)

        hashing._map = counting

    def now(self) -> tuple[int, int]:
        io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
        return int(io["rchar"]), self.mapped


def anchor(path: Path, url: str, store_dir: Path, scratch: Path, zenodo_url: str, token: str) -> dict:
    import httpx

    started = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        buffer = bytearray(8 << 20)
        while handle.readinto(buffer):
            pass
    local_read = time.perf_counter() - started
    landed = scratch / "anchor-download"
    started = time.perf_counter()
    with httpx.stream("GET", url, timeout=600) as response, open(landed, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            out.write(chunk)
    download = time.perf_counter() - started
    landed.unlink()
    started = time.perf_counter()
    shutil.copyfile(path, store_dir / "anchor-copy")
    copy = time.perf_counter() - started
    (store_dir / "anchor-copy").unlink()
    headers = {"Authorization": f"Bearer {token}"}
    draft = httpx.post(f"{zenodo_url}/api/deposit/depositions", json={}, headers=headers).json()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        httpx.put(f"{draft['links']['bucket']}/anchor", content=iter(lambda: handle.read(64 << 10), b""), headers=headers,
                  timeout=600).raise_for_status()
    put = time.perf_counter() - started
    httpx.delete(f"{zenodo_url}/api/deposit/depositions/{draft['id']}", headers=headers)  # its disk back
    return {"local_read": local_read, "download": download, "store_copy": copy, "zenodo_put": put,
            "total": download + copy + put, "literal_total": local_read + copy + put}


def start_services(workdir: Path) -> tuple[subprocess.Popen, Path]:
    services_file = workdir / "services.json"
    process = subprocess.Popen([str(Path(sys.executable).with_name("dfc")), "services", "--workdir", str(workdir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not services_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dfc services did not start (exit {process.returncode})")
        time.sleep(0.2)
    return process, services_file


def child(size: int, workdir: Path) -> dict:
    os.environ["DFC_REGISTRY"] = str(workdir / "registry.yaml")
    (workdir / "registry.yaml").write_text(REGISTRY, encoding="utf-8")
    scratch = workdir / "tmp"
    scratch.mkdir()
    tempfile.tempdir = str(scratch)  # scratch folders and the host cache (publication/scratch.py) live here
    os.environ["DFC_CACHE_DIR"] = str(scratch / "dfc-cache")
    services, services_file = start_services(workdir / "services")
    try:
        os.environ["DFC_SERVICES_FILE"] = str(services_file)
        urls = json.loads(services_file.read_text())
        source = Path(urls["sources_root"]) / "bench" / "big.pmtiles"
        make_pmtiles(source, size)
        stamp = time.mktime((2025, 8, 10, 12, 0, 0, 0, 0, 0))
        os.utime(source, (stamp, stamp))
        real_size = source.stat().st_size
        bound = anchor(source, f"{urls['sources_url']}/bench/big.pmtiles", Path(urls["store_root"]), scratch,
                       urls["zenodo_url"], urls["zenodo_token"])

        from dfc_assets.defs.resources import PublisherResource
        from dfc_assets.publication import artifact, raw, stac_item, torrent, zenodo_record
        from dfc_assets.registry import forget_registered_datasets, load_registry

        from dfc_assets.transform.manifest import library_versions

        library_versions()  # imports GDAL, GEOS, PROJ once (~4 s per process, whatever the file size)
        forget_registered_datasets()
        (spec,) = list(load_registry())
        counter = ReadCounter()
        watch = DiskWatch(scratch)
        watch.start()
        steps, reads = {}, {}
        for name, step in zip(STEPS, (raw.archive_raw, artifact.build_artifact, zenodo_record.publish_zenodo,
                                      torrent.make_torrent, stac_item.write_stac_item)):
            rchar, mapped = counter.now()
            started = time.perf_counter()
            with PublisherResource().open(_log) as publisher:
                step(publisher, spec, "2025-08-10")
            steps[name] = time.perf_counter() - started
            after_rchar, after_mapped = counter.now()
            reads[name] = {"read": after_rchar - rchar, "mapped": after_mapped - mapped}
        watch.running = False
        watch.join()
    finally:
        os.killpg(services.pid, signal.SIGTERM)
        services.wait(timeout=60)
    total = sum(steps.values())
    return {"size": real_size, "steps": steps, "reads": reads, "total": total, "anchor": bound,
            "ratio": total / bound["total"], "literal_ratio": total / bound["literal_total"],
            "scratch_peak": watch.peak, "scratch_ratio": watch.peak / real_size,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes-mib", default="512,4096")
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child is not None:
        with tempfile.TemporaryDirectory(prefix="dfc-bench-prebuilt-") as folder:
            print(json.dumps(child(args.child << 20, Path(folder))))
        return
    results = {}
    for mib in (int(m) for m in args.sizes_mib.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(mib)], cwd=REPO, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"{mib} MiB run failed:\n{out.stderr[-4000:]}")
        results[mib] = json.loads(out.stdout.strip().splitlines()[-1])
    for mib, r in results.items():
        size = r["size"]
        print(f"{mib} MiB prebuilt PMTiles ({size} bytes):")
        for name in STEPS:
            read = r["reads"][name]
            print(f"  {name:<14} {r['steps'][name]:6.1f}s  read() {read['read'] / size:5.2f} S  hashed from page cache "
                  f"{read['mapped'] / size:5.2f} S")
        total_read = sum(v["read"] + v["mapped"] for v in r["reads"].values()) / size
        a = r["anchor"]
        print(f"  end to end {r['total']:.1f}s vs I/O lower bound {a['total']:.1f}s (GET {a['download']:.1f}s + store copy "
              f"{a['store_copy']:.1f}s + Zenodo PUT {a['zenodo_put']:.1f}s): {r['ratio']:.2f}x (goal <= 1.3x)")
        print(f"  (with a local read {a['local_read']:.1f}s in place of the GET: {a['literal_total']:.1f}s, {r['literal_ratio']:.2f}x); "
              f"bytes read in all {total_read:.2f} S (the GET of the download included)")
        print(f"  scratch disk peak {r['scratch_peak'] / 2**20:.0f} MiB = {r['scratch_ratio']:.2f}x the file (goal <= 1.1x); "
              f"peak RSS {r['peak_rss_mib']:.0f} MiB")
    sizes = list(results)
    small, big = results[sizes[0]], results[sizes[-1]]
    print(f"peak RSS {big['peak_rss_mib']:.0f} MiB at {sizes[-1]} MiB vs {small['peak_rss_mib']:.0f} MiB at {sizes[0]} MiB: "
          f"{big['peak_rss_mib'] / small['peak_rss_mib']:.2f}x (flat: ~1.0x)")


if __name__ == "__main__":
    main()
