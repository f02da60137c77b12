"""Upload throughput of ZenodoClient.upload_file into the Zenodo emulator, against anchors from the same run.

Anchors, interleaved round-robin, each variant in a fresh process (so peak RSS is its own):
  * a plain streaming httpx PUT of the same file to the same emulator bucket;
  * a plain file copy (shutil.copyfile) on the same disk (the floor for "bytes to disk").
Then peak RSS of the client for two file sizes (it must stay flat), and the emulator's peak RSS.
The emulator runs as its own process (``python -m dfc_assets.zenodo.emulator``).
Usage:
  python benchmarks/zenodo_upload.py [--size-mib 1024] [--rounds 3] [--rss-sizes-mib 1024,4096]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOKEN = "benchmark-token"
VARIANTS = ("client", "plain_httpx", "file_copy")


def _make_file(path: Path, size: int) -> None:
    block = os.urandom(4 << 20)
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, len(block))
            out.write(block[:n])
            left -= n


def _new_bucket(base_url: str) -> str:
    import httpx

    answer = httpx.post(f"{base_url}/api/deposit/depositions", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    answer.raise_for_status()
    return answer.json()["links"]["bucket"]


def _child(variant: str, base_url: str, path: Path, scratch: Path) -> None:
    started = time.perf_counter()
    if variant == "client":
        from dfc_assets.zenodo import ZenodoClient

        with ZenodoClient(base_url, TOKEN) as client:
            answer = client.upload_file(_new_bucket(base_url), path)
        assert answer["size"] == path.stat().st_size
    elif variant == "plain_httpx":
        import httpx

        bucket = _new_bucket(base_url)
        with open(path, "rb") as handle:
            answer = httpx.put(f"{bucket}/{path.name}", content=handle, timeout=3600,
                               headers={"Authorization": f"Bearer {TOKEN}", "Content-Length": str(path.stat().st_size)})
        answer.raise_for_status()
    else:
        target = scratch / "copy.bin"
        shutil.copyfile(path, target)
        target.unlink()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def _run(variant: str, base_url: str, path: Path, scratch: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", variant, "--url", base_url, "--file", str(path),
                          "--scratch", str(scratch)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rss-sizes-mib", default="1024,4096")
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--scratch", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.url, args.file, args.scratch)
        return

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        scratch = Path(tmp)
        emulator = subprocess.Popen(
            [sys.executable, "-m", "dfc_assets.zenodo.emulator", "--port", "0", "--data-dir", str(scratch / "zenodo"),
             "--token", TOKEN], stdout=subprocess.PIPE, text=True)
        try:
            base_url = emulator.stdout.readline().strip()
            size = args.size_mib << 20
            path = scratch / "upload.bin"
            _make_file(path, size)
            results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
            for _ in range(args.rounds):
                for variant in VARIANTS:
                    results[variant].append(_run(variant, base_url, path, scratch))
                    for blob in (scratch / "zenodo" / "blobs").glob("*"):
                        blob.unlink()  # keep the disk from filling; the emulator never reads them again here
            print(f"upload of {args.size_mib} MiB, median of {args.rounds} rounds (fresh process per run):")
            medians = {v: statistics.median(r["seconds"] for r in results[v]) for v in VARIANTS}
            for variant in VARIANTS:
                rss = max(r["maxrss_kib"] for r in results[variant]) / 1024
                print(f"  {variant:12s} {medians[variant]:7.2f} s  {size / medians[variant] / 1e6:8.1f} MB/s  peak RSS {rss:6.1f} MiB")
            print(f"  ratio client / plain httpx PUT time: {medians['client'] / medians['plain_httpx']:.2f}")
            print(f"  ratio client / file copy time:       {medians['client'] / medians['file_copy']:.2f}")
            path.unlink()

            print("client peak RSS by file size (flat = streaming):")
            for mib in (int(s) for s in args.rss_sizes_mib.split(",") if s):
                sized = scratch / f"rss-{mib}.bin"
                _make_file(sized, mib << 20)
                run = _run("client", base_url, sized, scratch)
                sized.unlink()
                for blob in (scratch / "zenodo" / "blobs").glob("*"):
                    blob.unlink()
                print(f"  {mib:6d} MiB: {run['maxrss_kib'] / 1024:6.1f} MiB peak RSS, {(mib << 20) / run['seconds'] / 1e6:7.1f} MB/s")
            print(f"emulator peak RSS after all uploads: {_vm_hwm_kib(emulator.pid) / 1024:.1f} MiB")
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)


if __name__ == "__main__":
    main()
