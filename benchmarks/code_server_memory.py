"""Peak memory of the code server at 10,000 datasets, against 2.

`dagster code-server start -m dfc_assets.definitions` with a statcan_tables collection of N synthetic WDS
tables (the sample-source server on loopback, the cube-list snapshot in a local store), then one evaluation
of the upstream sensor inside it (`dagster sensor preview` through a grpc_server workspace: the sensor runs
in the code server and loads every dataset). Peak resident memory (VmHWM) of each process of the code
server's session is read from /proc; the figure is their sum. The anchor is the same with N = 2, in the
same run.
Run: python benchmarks/code_server_memory.py [--tables 10000]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.registry import refresh_cube_list  # noqa: E402
from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url  # noqa: E402
from dfc_assets.storage import LocalFolderStore  # noqa: E402

BIN = Path(sys.executable).parent
COLLECTION = """collections:
  - key: statcan_tables
    kind: statcan_tables
    producer: Statistics Canada
    license: OGL-Canada-2.0
    filters: {filters}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_peak_kib(session: int) -> tuple[int, int]:
    """(sum, max) of VmHWM over the live processes of a session."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        except (OSError, ProcessLookupError):
            continue
    return sum(peaks), max(peaks, default=0)


def measure(work: Path, tables: int) -> dict:
    from dfc_assets.services.synthetic_wds import synthetic_product_ids

    root = work / "sources"
    seed_sources(root, synthetic_tables=max(tables, 2), synthetic_seed=1)
    ids = synthetic_product_ids(root, include_archived=True)
    filters = "{include_archived: true, product_ids: [" + ", ".join(f'"{pid}"' for pid in ids[:tables]) + "]}"
    (work / "registry.yaml").write_text(COLLECTION.format(filters=filters), encoding="utf-8")
    home = work / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\n", encoding="utf-8")
    port = free_port()
    (home / "workspace.yaml").write_text(f"load_from:\n  - grpc_server: {{host: 127.0.0.1, port: {port}, location_name: dfc_assets}}\n", encoding="utf-8")
    server = sample_source_server(root).start()
    try:
        store = LocalFolderStore(work / "store", "http://127.0.0.1:9/")
        with httpx.Client(timeout=60) as client:
            refresh_cube_list(store, client, wds_base_url(server.base_url))
        env = {**os.environ, "DAGSTER_HOME": str(home), "DFC_REGISTRY": str(work / "registry.yaml"), "DFC_CACHE_DIR": str(work / "cache"),
               "DFC_STORE": "local", "DFC_LOCAL_STORE": str(work / "store"), "DFC_PUBLIC_BASE_URL": "http://127.0.0.1:9/",
               "DFC_WDS_BASE_URL": wds_base_url(server.base_url), "DFC_SOURCES_BASE_URL": server.base_url}
        env.pop("DFC_SERVICES_FILE", None)
        code_server = subprocess.Popen([str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(port),
                                        "-m", "dfc_assets.definitions", "--location-name", "dfc_assets"],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            health = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(port), "-h", "127.0.0.1"]
            started = time.monotonic()
            while subprocess.run(health, env=env, capture_output=True).returncode != 0:
                if time.monotonic() - started > 600 or code_server.poll() is not None:
                    raise SystemExit("the code server did not come up")
                time.sleep(1)
            loaded = session_peak_kib(code_server.pid)
            preview = subprocess.run([str(BIN / "dagster"), "sensor", "preview", "dfc_upstream_changes", "-w", str(home / "workspace.yaml")],
                                     env=env, capture_output=True, text=True, timeout=900)
            if preview.returncode != 0:
                raise SystemExit(f"sensor preview failed:\n{preview.stdout[-2000:]}\n{preview.stderr[-2000:]}")
            ticked = session_peak_kib(code_server.pid)
        finally:
            os.killpg(code_server.pid, 9)
            code_server.wait()
    finally:
        server.stop()
    return {"loaded": loaded, "ticked": ticked}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as big, tempfile.TemporaryDirectory() as small:
        figures = measure(Path(big), args.tables)
        anchor = measure(Path(small), 2)
    mib = lambda kib: kib / 1024  # noqa: E731
    for what, label in (("loaded", "after loading the definitions"), ("ticked", "after one sensor tick over every dataset")):
        print(f"code server peak RSS {label}: {args.tables:,} datasets {mib(figures[what][0]):.0f} MiB "
              f"(largest process {mib(figures[what][1]):.0f} MiB), anchor 2 datasets {mib(anchor[what][0]):.0f} MiB: "
              f"{figures[what][0] / anchor[what][0]:.2f}x")


if __name__ == "__main__":
    main()
