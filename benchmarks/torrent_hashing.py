"""One-pass digest_file (MD5 + SHA-256 + hybrid torrent pieces) against the anchors, on a page-cached file.

Anchors, measured in the same run, interleaved round-robin, each variant in a fresh process:
  * libtorrent set_piece_hashes (hybrid) + a separate hashlib MD5 pass + a separate SHA-256 pass
    (what the pipeline would do without digest_file);
  * hashlib MD5 alone (the floor for any pass that includes MD5: MD5 cannot be parallelised);
  * libtorrent set_piece_hashes (hybrid) alone.
Prints median seconds, MB/s, peak RSS and the ratios. Usage:
  python benchmarks/torrent_hashing.py [--size-mib 512] [--rounds 3] [--piece-mib 16]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = ("one_pass", "lt_hybrid_plus_md5_sha256", "md5_alone", "lt_hybrid_alone", "one_pass_v1")


def _hash_stream(path: Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _lt_hybrid(path: Path, piece_size: int) -> None:
    import libtorrent as lt

    files = lt.list_files(str(path), lambda _: True, lt.create_torrent.no_attributes)
    ct = lt.create_torrent(files, piece_size, 0)
    lt.set_piece_hashes(ct, str(path.parent))
    lt.bencode(ct.generate())


def run_variant(name: str, path: Path, piece_size: int) -> None:
    from dfc_assets.torrent.hashing import digest_file

    t0 = time.perf_counter()
    if name == "one_pass":
        digest_file(path, piece_size=piece_size)
    elif name == "one_pass_v1":
        digest_file(path, piece_size=piece_size, v2=False)
    elif name == "lt_hybrid_plus_md5_sha256":
        _lt_hybrid(path, piece_size)
        _hash_stream(path, "md5")
        _hash_stream(path, "sha256")
    elif name == "md5_alone":
        _hash_stream(path, "md5")
    elif name == "lt_hybrid_alone":
        _lt_hybrid(path, piece_size)
    else:
        raise SystemExit(f"unknown variant {name}")
    seconds = time.perf_counter() - t0
    print(f"{seconds:.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")


def _run(env: dict, variant: str, path: Path, piece_mib: int) -> tuple[float, int]:
    proc = subprocess.run(
        [sys.executable, __file__, "--run", variant, "--file", str(path), "--piece-mib", str(piece_mib)],
        capture_output=True, text=True, env=env,
    )
    if proc.returncode:
        raise SystemExit(f"variant {variant} failed:\n{proc.stderr}")
    seconds, rss_kib = proc.stdout.split()
    return float(seconds), int(rss_kib)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--piece-mib", type=int, default=16)
    ap.add_argument("--file", type=Path, help="use this file instead of generating one")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    args = ap.parse_args()
    piece_size = args.piece_mib << 20
    if args.run:
        run_variant(args.run, args.file, piece_size)
        return

    tmp = None
    path = args.file
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="dfc-bench-")
        path = Path(tmp.name) / "bench.bin"
        with open(path, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
    size = path.stat().st_size
    _hash_stream(path, "sha1")  # warm the page cache
    quarter = Path(tmp.name if tmp else tempfile.gettempdir()) / "bench-quarter.bin"
    with open(path, "rb") as src, open(quarter, "wb") as dst:  # in chunks: children inherit our peak RSS
        for _ in range(size // 4 // (1 << 20)):
            dst.write(src.read(1 << 20))
    load_before = os.getloadavg()[0]
    results: dict[str, list[tuple[float, int]]] = {v: [] for v in VARIANTS}
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))}
    try:
        for _ in range(args.rounds):
            for v in VARIANTS:
                results[v].append(_run(env, v, path, args.piece_mib))
        small_rss = max(_run(env, "one_pass", quarter, args.piece_mib)[1] for _ in range(args.rounds))
    finally:
        quarter.unlink(missing_ok=True)
        if tmp is not None:
            tmp.cleanup()

    med = {v: statistics.median(s for s, _ in r) for v, r in results.items()}
    print(f"file {size / 2**20:.0f} MiB, pieces {args.piece_mib} MiB, {args.rounds} rounds, {os.cpu_count()} CPUs, warm cache")
    print(
        f"load average before the run {load_before:.2f}"
        + ("  (machine busy: threaded variants lose their second core, ratios are not representative)"
           if load_before > 0.5 * (os.cpu_count() or 1) else "")
    )
    print(f"{'variant':28} {'median s':>9} {'MB/s':>7} {'peak RSS MiB':>13}")
    for v in VARIANTS:
        rss = max(r for _, r in results[v]) / 1024
        print(f"{v:28} {med[v]:9.3f} {size / med[v] / 1e6:7.0f} {rss:13.0f}")
    print(
        "ratio one_pass vs libtorrent hybrid + separate md5 + sha256: "
        f"{med['lt_hybrid_plus_md5_sha256'] / med['one_pass']:.2f}x faster"
    )
    print(f"ratio one_pass vs md5 alone: {med['md5_alone'] / med['one_pass']:.2f}x (1.0 = as fast as MD5 alone)")
    print(f"ratio one_pass (all hashes) vs libtorrent hybrid alone: {med['lt_hybrid_alone'] / med['one_pass']:.2f}x")
    print(f"ratio one_pass_v1 (md5+sha256+v1) vs md5 alone: {med['md5_alone'] / med['one_pass_v1']:.2f}x")
    big_rss = max(r for _, r in results["one_pass"])
    print(
        f"peak RSS one_pass: {big_rss / 1024:.0f} MiB for {size / 2**20:.0f} MiB vs {small_rss / 1024:.0f} MiB for "
        f"{size / 4 / 2**20:.0f} MiB (ratio {big_rss / small_rss:.2f}; flat = 1.00)"
    )


if __name__ == "__main__":
    main()
