"""Cost of the shared Zenodo rate limiter per request, against a loopback request to the emulator in the same run.

For each store (memory, file, postgres when PostgreSQL's binaries are installed) it times N pairs of
``acquire`` + ``observe`` with a budget that never makes anyone wait, in one process and in four at
once, and prints the figure next to the anchor: the time of one authenticated GET to the Zenodo
emulator on loopback (the cheapest request the limiter guards).
Usage:
  python benchmarks/zenodo_rate_limiter.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADERS = {"x-ratelimit-limit": "1000000000", "x-ratelimit-remaining": "999999999", "x-ratelimit-reset": "0"}


def _store(kind: str, where: str):
    from dfc_assets.zenodo.rate_limit import store_from_environment

    return store_from_environment({"DFC_ZENODO_RATE_LIMITER": {"memory": "memory", "file": f"file:{where}"}.get(kind, where)})


def _child(kind: str, where: str, count: int) -> None:
    from dfc_assets.zenodo.rate_limit import RateLimiter

    limiter = RateLimiter(_store(kind, where), "bench", assumed_limit=1_000_000_000)
    limiter.observe(200, HEADERS)
    started = time.perf_counter()
    for _ in range(count):
        limiter.acquire()
        limiter.observe(200, HEADERS)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def _run(kind: str, where: str, count: int, processes: int) -> float:
    """The slowest child's time for its ``count`` pairs (process start excluded)."""
    children = [subprocess.Popen([sys.executable, __file__, "--child", kind, "--where", where, "--requests", str(count)],
                                 stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    slowest = 0.0
    for child in children:
        out, _ = child.communicate(timeout=600)
        assert child.returncode == 0
        slowest = max(slowest, json.loads(out.strip().splitlines()[-1])["seconds"])
    return slowest


def _anchor(count: int, scratch: Path) -> float:
    import httpx

    from dfc_assets.zenodo import ZenodoEmulator

    with ZenodoEmulator(scratch / "zenodo", token="bench", rate_limit=10**9) as emulator, \
            httpx.Client(base_url=emulator.base_url, headers={"Authorization": "Bearer bench"}) as http:
        http.get("/api/deposit/depositions", params={"size": 1})
        started = time.perf_counter()
        for _ in range(count):
            http.get("/api/deposit/depositions", params={"size": 1})
        return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--child")
    parser.add_argument("--where", default="")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.where, args.requests)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        anchor = _anchor(min(args.requests, 500), scratch)
        print(f"anchor: one GET to the Zenodo emulator on loopback: {anchor * 1e3:.3f} ms")
        stores = {"memory": "", "file": str(scratch / "limiter")}
        postgres = None
        try:
            from dfc_assets_tests.e2e.topology_postgres import ThrowawayPostgres, postgres_bin_dir

            if postgres_bin_dir() is not None:
                postgres = ThrowawayPostgres(database="bench")
                c = postgres.start()
                stores["postgres"] = f"postgresql://{c.user}:{c.password}@{c.host}:{c.port}/{c.database}"
        except Exception as error:  # the benchmark still reports the other stores
            print(f"postgres: not measured ({type(error).__name__})")
        try:
            for kind, where in stores.items():
                for processes in (1, 4) if kind != "memory" else (1,):
                    seconds = _run(kind, where, args.requests, processes)
                    per = seconds / args.requests
                    print(f"{kind:8s} {processes} process(es) at once: {per * 1e3:.3f} ms per acquire+observe in each "
                          f"= {per / anchor:.2f}x the anchor request; {args.requests * processes / seconds:,.0f} per second in all")
        finally:
            if postgres is not None:
                postgres.stop()


if __name__ == "__main__":
    main()
