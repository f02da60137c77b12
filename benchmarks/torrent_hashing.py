"""digest_file / build_torrent against issue 4's anchors, in one run, on a page-cached file (default 1 GiB).

Each variant runs in a fresh process, variants interleaved round-robin; medians of wall seconds. Lines:
  1. all hashes + hybrid torrent in one pass (digest_file)       vs hashlib MD5 alone          goal >= 0.9x
  2. hybrid torrent alone (build_torrent, md5/sha256 off)        vs libtorrent set_piece_hashes goal >= 1.5x
  3. v1 torrent alone (build_torrent, md5/sha256 off)            vs mktorrent -t 2 -l 24        goal >= 0.9x
  4. peak RSS of the one pass on the file and on one 4x its size                              goal within 10 %
  5. a two-file version (the same bytes split in two): hybrid + v1 torrents + md5 in one read
     (build_version_torrents, what the torrent step does)        vs hashlib MD5 alone          goal >= 0.8x
plus the CPU-seconds of each hash on this machine in the same run and the bound they put on line 1, the
pipeline without digest_file (libtorrent hybrid + separate MD5 and SHA-256 passes), and MD5 + hybrid alone.
Our figures are timed inside the process (a library call); mktorrent's around its exec (a few ms of start-up).
Usage:
  python benchmarks/torrent_hashing.py [--size-mib 1024] [--rounds 5] [--piece-mib 16] [--no-big]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mmap
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MD5_ALONE, ONE_PASS, HYBRID, LT_HYBRID, V1, MKTORRENT, LT_PLUS, MD5_HYBRID, TWO_FILES = (
    "md5_alone", "one_pass_all", "hybrid_alone", "libtorrent_hybrid", "v1_alone", "mktorrent_t2", "lt_hybrid+md5+sha256",
    "one_pass_md5_hybrid", "two_files_both+md5",
)
VARIANTS = (MD5_ALONE, ONE_PASS, HYBRID, LT_HYBRID, V1, MKTORRENT, LT_PLUS, MD5_HYBRID, TWO_FILES)


def _hash_stream(path: Path, algo: str) -> str:
    """The anchor's way: one thread, 4 MiB reads into one buffer."""
    h = hashlib.new(algo)
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _lt_hybrid(path: Path, piece_size: int) -> bytes:
    import libtorrent as lt

    files = lt.list_files(str(path), lambda _: True, lt.create_torrent.no_attributes)
    ct = lt.create_torrent(files, piece_size, 0)
    lt.set_piece_hashes(ct, str(path.parent))
    return lt.bencode(ct.generate())


def run_variant(name: str, path: Path, piece_size: int, out: Path | None) -> dict:
    from dfc_assets.torrent.hashing import digest_file
    from dfc_assets.torrent.metainfo import build_torrent, build_version_torrents
    from dfc_assets.torrent.options import TorrentOptions

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if name == ONE_PASS:
        digest_file(path, piece_size=piece_size)
    elif name == MD5_HYBRID:
        digest_file(path, piece_size=piece_size, sha256=False)
    elif name == HYBRID:
        build_torrent(path, name=path.name, options=TorrentOptions(piece_size=piece_size), md5=False, sha256=False)
    elif name == V1:
        built = build_torrent(
            path, name=path.name, options=TorrentOptions(flavour="v1", piece_size=piece_size), md5=False, sha256=False
        )
        if out is not None:
            out.write_bytes(built.data)
    elif name == TWO_FILES:
        halves = sorted(path.parent.glob("half-*.bin"))
        build_version_torrents(halves, folder="v", options=TorrentOptions(piece_size=piece_size), md5=True, sha256=False)
    elif name == MD5_ALONE:
        _hash_stream(path, "md5")
    elif name == LT_HYBRID:
        _lt_hybrid(path, piece_size)
    elif name == LT_PLUS:
        _lt_hybrid(path, piece_size)
        _hash_stream(path, "md5")
        _hash_stream(path, "sha256")
    elif name == MKTORRENT:
        out.unlink(missing_ok=True)  # mktorrent will not overwrite
        subprocess.run(
            ["mktorrent", "-t", "2", "-l", str(piece_size.bit_length() - 1), "-d", "-a", "http://127.0.0.1/announce",
             "-o", str(out), str(path)],
            check=True, capture_output=True,
        )
    else:
        raise SystemExit(f"unknown variant {name}")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    if name == MKTORRENT:
        cpu = sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f) for f in ("ru_utime", "ru_stime"))
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "cpu": cpu, "rss_kib": rss}


def hash_costs(path: Path, piece_size: int) -> dict[str, float]:
    """CPU-seconds of each hash alone on this file, one thread, over the same mapped windows digest_file uses."""
    from dfc_assets.torrent.hashing import BLOCK_SIZE, WINDOW_SIZE, _next_pow2, _sha1_pieces, _v2_piece_roots

    size = path.stat().st_size
    window = max(piece_size, WINDOW_SIZE)
    leaf_width = _next_pow2(-(-size // BLOCK_SIZE)) if size <= piece_size else piece_size // BLOCK_SIZE
    costs = dict.fromkeys(("map", "md5", "sha256", "sha1 pieces", "v2 leaves+tree"), 0.0)
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    work = {
        "md5": lambda v: md5.update(v),
        "sha256": lambda v: sha256.update(v),
        "sha1 pieces": lambda v: _sha1_pieces(v, piece_size),
        "v2 leaves+tree": lambda v: _v2_piece_roots(v, piece_size, leaf_width),
    }
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset in range(0, size, window):
            t = time.thread_time()
            m = mmap.mmap(fd, min(window, size - offset), flags=mmap.MAP_SHARED | mmap.MAP_POPULATE,
                          prot=mmap.PROT_READ, offset=offset)
            costs["map"] += time.thread_time() - t
            with memoryview(m) as view:
                for key, fn in work.items():
                    t = time.thread_time()
                    fn(view)
                    costs[key] += time.thread_time() - t
            m.close()
    finally:
        os.close(fd)
    return costs


def _child(env: dict, *args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"benchmark child {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def _write_random(path: Path, mib: int) -> None:
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))


def _repeat(src: Path, dst: Path, times: int) -> None:
    with open(dst, "wb") as out:
        for _ in range(times):
            with open(src, "rb") as f:
                shutil.copyfileobj(f, out, 4 << 20)  # in chunks: children inherit nothing, but keep ours small too


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--piece-mib", type=int, default=16)
    ap.add_argument("--no-big", action="store_true", help="skip the peak-RSS run on a file 4x the size")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--costs", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    piece_size = args.piece_mib << 20
    if args.run:
        print(json.dumps(run_variant(args.run, args.file, piece_size, args.out)))
        return
    if args.costs:
        print(json.dumps(hash_costs(args.file, piece_size)))
        return
    variants = VARIANTS if shutil.which("mktorrent") else tuple(v for v in VARIANTS if v != MKTORRENT)
    if MKTORRENT not in variants:
        print("mktorrent is not installed (apt-get install mktorrent): line 3 is skipped")

    cpus = os.cpu_count() or 1
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="dfc-bench-") as tmp:
        path = Path(tmp) / "bench.bin"
        _write_random(path, args.size_mib)
        big = Path(tmp) / "bench4x.bin"
        if not args.no_big:
            _repeat(path, big, 4)
            _hash_stream(big, "sha1")  # warm the page cache
        _hash_stream(path, "sha1")
        _split(path, Path(tmp) / "half-a.bin", Path(tmp) / "half-b.bin")
        size = path.stat().st_size
        ours_torrent, mk_torrent = Path(tmp) / "ours.torrent", Path(tmp) / "mk.torrent"

        load_before = os.getloadavg()
        busy_before, wall_before = _system_busy_seconds(), time.perf_counter()
        ours_before = _our_cpu()
        results: dict[str, list[dict]] = {v: [] for v in variants}
        costs: list[dict[str, float]] = []
        rss_big: list[int] = []
        for _ in range(args.rounds):
            for v in variants:
                out = {V1: ours_torrent, MKTORRENT: mk_torrent}.get(v)
                extra = ["--out", str(out)] if out else []
                results[v].append(_child(env, "--run", v, "--file", str(path), "--piece-mib", str(args.piece_mib), *extra))
            costs.append(_child(env, "--costs", "--file", str(path), "--piece-mib", str(args.piece_mib)))
            if not args.no_big:
                rss_big.append(_child(env, "--run", ONE_PASS, "--file", str(big), "--piece-mib", str(args.piece_mib))["rss_kib"])
        foreign = (_system_busy_seconds() - busy_before - (_our_cpu() - ours_before)) / (time.perf_counter() - wall_before)
        same_pieces = _v1_pieces(ours_torrent) == _v1_pieces(mk_torrent)

    med = {v: statistics.median(r["seconds"] for r in rs) for v, rs in results.items()}
    cpu = {v: statistics.median(r["cpu"] for r in rs) for v, rs in results.items()}
    rss = {v: max(r["rss_kib"] for r in rs) / 1024 for v, rs in results.items()}
    cost = {k: statistics.median(c[k] for c in costs) for k in costs[0]}

    print(f"file {size / 2**20:.0f} MiB random, page-cached; pieces {args.piece_mib} MiB; {args.rounds} rounds; {cpus} CPUs")
    busy = load_before[0] > 1.5 or foreign > 0.15
    print(f"load average before the run {load_before[0]:.2f}; other processes used {foreign:.2f} cores on average during it"
          + ("  ** machine busy: threaded figures lose cores, ratios are not representative **" if busy else ""))
    print(f"{'variant':22} {'median s':>9} {'min s':>7} {'MB/s':>6} {'CPU s':>6} {'peak RSS MiB':>13}")
    for v in variants:
        low = min(r["seconds"] for r in results[v])
        print(f"{v:22} {med[v]:9.3f} {low:7.3f} {size / med[v] / 1e6:6.0f} {cpu[v]:6.2f} {rss[v]:13.0f}")

    def line(label: str, ours: str, anchor: str, goal: float) -> None:
        ratio = med[anchor] / med[ours]
        verdict = "met" if ratio >= goal else "NOT met"
        print(f"{label}: {med[ours]:.3f} s vs {anchor} {med[anchor]:.3f} s = {ratio:.2f}x (goal >= {goal}x: {verdict})")

    print()
    line("1. all hashes + hybrid, one pass", ONE_PASS, MD5_ALONE, 0.9)
    line("2. hybrid torrent alone        ", HYBRID, LT_HYBRID, 1.5)
    if MKTORRENT in variants:
        line("3. v1 torrent alone            ", V1, MKTORRENT, 0.9)
        print(f"   (v1 pieces identical to mktorrent's: {same_pieces})")
    if rss_big:
        small, large = rss[ONE_PASS], max(rss_big) / 1024
        print(f"4. peak RSS one pass: {small:.0f} MiB at {size / 2**20:.0f} MiB, {large:.0f} MiB at {4 * size / 2**20:.0f} MiB "
              f"= {large / small - 1:+.1%} (goal within 10 %: {'met' if abs(large / small - 1) <= 0.10 else 'NOT met'})")
    line("5. two-file version, both torrents + md5, one read", TWO_FILES, MD5_ALONE, 0.8)
    print(f"   one pass vs the pipeline without it ({LT_PLUS}): {med[LT_PLUS] / med[ONE_PASS]:.2f}x faster")
    print(f"   md5 + hybrid in one pass (what a torrent publication needs for Zenodo's md5): {med[MD5_HYBRID]:.3f} s "
          f"= {med[MD5_ALONE] / med[MD5_HYBRID]:.2f}x md5 alone")

    total = sum(cost.values())
    bound = max(cost["md5"], total / cpus)
    print()
    print("CPU-seconds of each hash alone on this file (one thread, same run): "
          + ", ".join(f"{k} {v:.3f}" for k, v in cost.items()) + f"; sum {total:.3f}")
    print(f"bound for line 1 on {cpus} cores: max(md5 {cost['md5']:.3f}, sum/{cpus} {total / cpus:.3f}) = {bound:.3f} s "
          f"-> best possible ratio {med[MD5_ALONE] / bound:.2f}x vs md5 alone {med[MD5_ALONE]:.3f} s; "
          f"one pass used {cpu[ONE_PASS]:.2f} CPU-s, {cpu[ONE_PASS] / (cpus * med[ONE_PASS]):.0%} of {cpus} cores, "
          f"and reached {bound / med[ONE_PASS]:.0%} of the bound")


def _split(src: Path, first: Path, second: Path) -> None:
    """The same bytes as two files, the first ending mid-piece (pad file in the hybrid, shifted v1 pieces)."""
    cut = src.stat().st_size // 2 + 12345
    with open(src, "rb") as f:
        first.write_bytes(f.read(cut))
        second.write_bytes(f.read())


def _system_busy_seconds() -> float:
    """CPU-seconds all processes have spent (the cpu line of /proc/stat, all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _our_cpu() -> float:
    """CPU-seconds of this process and its finished children."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def _v1_pieces(torrent: Path) -> bytes | None:
    import libtorrent as lt

    try:
        return lt.bdecode(torrent.read_bytes())[b"info"][b"pieces"]
    except (OSError, KeyError, TypeError):
        return None


if __name__ == "__main__":
    main()
