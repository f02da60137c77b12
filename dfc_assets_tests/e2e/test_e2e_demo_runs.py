"""Issue 12.1 and 12.9 through the real command: `dfc demo` in its own process on a fresh work folder.

- No run outlives its process: a demo SIGKILLed at each step of the chain (and in the catalog step, while it
  holds the catalog's lease) is followed by a rerun that finishes on its own; the killed run is marked failed
  and no pool slot stays held.
- A demo waiting for a pool slot held by a live run obeys SIGTERM and SIGINT, and goes on by itself once the
  holder is gone.
- A first run worth reading: the report's shape, no warnings, no Dagster event lines, no tracebacks; the event
  log in a file; a failure in --json carries its cause.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from dfc_assets.cli.run_liveness import HOST_TAG, PID_TAG, UNFINISHED, slot_holders
from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import seed_sources

from .demo_report import assert_every_file_is_reported

pytestmark = pytest.mark.e2e
SPECS = list(load_registry())
DEMO_SECONDS = 600


def demo_arguments(workdir: Path, *extra: str) -> list[str]:
    return ["demo", "--workdir", str(workdir), *extra]


def demo_command(workdir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dfc_assets.cli.main", *demo_arguments(workdir, *extra)]


def environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(("DFC_", "DAGSTER_"))}


def run_demo(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(demo_command(workdir, *extra), capture_output=True, text=True, timeout=DEMO_SECONDS, env=environment())


def start_demo(workdir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(demo_command(workdir, *extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment(), start_new_session=True)


def instance_of(workdir: Path) -> dg.DagsterInstance:
    home = workdir / "dagster_home"
    deadline = time.monotonic() + DEMO_SECONDS
    while not (home / "dagster.yaml").exists():
        assert time.monotonic() < deadline, "the demo never prepared its Dagster home"
        time.sleep(0.1)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def demo_stopped_at(workdir: Path, step_suffix: str) -> tuple[subprocess.Popen, str]:
    """A demo whose process has stopped dead in step ``*{step_suffix}`` (see `paused_demo`), and that run's id."""
    marker = workdir.parent / "stopped_in_run"
    command = [sys.executable, "-m", "dfc_assets_tests.e2e.paused_demo", step_suffix, str(marker), *demo_arguments(workdir, "--json")]
    output = workdir.parent / "stopped_demo.log"
    with output.open("w", encoding="utf-8") as log:  # a file, not a pipe nobody reads while the demo runs
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=environment(), start_new_session=True)
    deadline = time.monotonic() + DEMO_SECONDS
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"the demo ended before step {step_suffix} started (exit {process.returncode}): "
                                 f"{output.read_text(encoding='utf-8')[-3000:]}")
        assert time.monotonic() < deadline, f"step {step_suffix} never started"
        time.sleep(0.05)
    return process, marker.read_text(encoding="utf-8")


def assert_no_run_outlived_its_process(workdir: Path) -> None:
    instance = instance_of(workdir)
    assert not instance.get_runs(dg.RunsFilter(statuses=UNFINISHED)), "a run is still marked as running"
    assert not slot_holders(instance), "a pool slot is still held"


def finished_demo(workdir: Path) -> dict:
    result = run_demo(workdir, "--json")
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)
    assert report["failures"] == []
    assert sorted(row["dataset_key"] for row in report["versions"]) == sorted(spec.key for spec in SPECS)
    return report


@pytest.mark.parametrize("step", ["__raw", "__parquet", "__zenodo_record", "__torrent", "__stac_item", "catalog__stac_geoparquet"])
def test_a_rerun_after_a_sigkill_at_each_step_finishes_on_its_own(tmp_path, step):
    workdir = tmp_path / "dfc"
    process, killed_run = demo_stopped_at(workdir, step)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    instance = instance_of(workdir)
    assert instance.get_run_by_id(killed_run).status in UNFINISHED
    assert [e.step_key for e in instance.all_logs(killed_run, of_type=DagsterEventType.STEP_START)][-1].endswith(step)
    report = finished_demo(workdir)
    assert report["catalog_rows"] == len(SPECS)
    killed = instance.get_run_by_id(killed_run)
    assert killed.status == DagsterRunStatus.FAILURE
    failure = instance.all_logs(killed_run, of_type=DagsterEventType.RUN_FAILURE)[-1].dagster_event.message
    assert "is gone" in failure and killed.tags[PID_TAG] in failure
    assert_no_run_outlived_its_process(workdir)


def live_holder_of(instance: dg.DagsterInstance, pool: str, process: subprocess.Popen) -> str:
    """A run of a live process (not ours) that holds the pool's only slot."""
    run_id = str(uuid.uuid4())
    instance.add_run(DagsterRun(job_name="someone_else", run_id=run_id, status=DagsterRunStatus.STARTED,
                                tags={PID_TAG: str(process.pid), HOST_TAG: os.uname().nodename}))
    instance.event_log_storage.initialize_concurrency_limit_to_default(pool)
    assert instance.event_log_storage.claim_concurrency_slot(pool, run_id, "someone_else_step").is_claimed
    return run_id


def wait_for_output(process: subprocess.Popen, text: str) -> list[str]:
    lines = []
    for line in process.stderr:
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"the demo ended without saying {text!r}: {''.join(lines)}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_demo_waiting_for_a_pool_slot_obeys_signals(tmp_path, signum):
    workdir = tmp_path / "dfc"
    (workdir / "dagster_home").mkdir(parents=True)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) as holder:
        try:
            from dfc_assets.cli.embedded import prepare_dagster_home

            prepare_dagster_home(workdir)
            live_holder_of(instance_of(workdir), "zenodo_api", holder)  # the instance is created here, before the demo
            process = start_demo(workdir, "--json")
            wait_for_output(process, "waiting for pool zenodo_api")
            process.send_signal(signum)
            _, err = process.communicate(timeout=120)
            assert process.returncode == 130, err[-3000:]
            assert "stopped" in err and "Traceback" not in err
            assert not (workdir / "services.json").exists(), "the local services were not stopped"
        finally:
            holder.kill()


def test_a_demo_waiting_for_a_pool_slot_goes_on_once_its_holder_dies(tmp_path):
    workdir = tmp_path / "dfc"
    from dfc_assets.cli.embedded import prepare_dagster_home

    prepare_dagster_home(workdir)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) as holder:
        holder_run = live_holder_of(instance_of(workdir), "zenodo_api", holder)
        process = start_demo(workdir, "--json")
        try:
            wait_for_output(process, "waiting for pool zenodo_api")
        finally:
            holder.kill()
        out, err = process.communicate(timeout=DEMO_SECONDS)
        holder.wait()
    assert process.returncode == 0, err[-3000:]
    assert json.loads(out)["failures"] == []
    assert instance_of(workdir).get_run_by_id(holder_run).status == DagsterRunStatus.FAILURE
    assert_no_run_outlived_its_process(workdir)


def test_the_first_run_prints_a_short_report(tmp_path):
    workdir = tmp_path / "dfc"
    result = run_demo(workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "Warning" not in output and "Traceback" not in output
    assert " - DEBUG - " not in output and " - INFO - " not in output, "Dagster's console events belong in the event log"
    assert len(output.splitlines()) <= 20 + 8 * len(SPECS)
    report = finished_demo(workdir)  # the same folder again: a second demo republishes nothing and reports the same
    assert_every_file_is_reported(report, workdir)
    for row in report["versions"]:
        block = output[output.index(f"{row['dataset_key']} version {row['version']}"):]
        for label, value in (("DOI", row["doi"]), ("Zenodo", row["zenodo_record_url"]), (".torrent", row["torrent_url"]),
                             ("magnet", row["magnet"]), ("processed/", row["processed_url"])):
            assert f"{label} " in block and value in block.split("\n\n")[0], (label, value)
        assert row["torrent_url"].endswith(".torrent") and row["magnet"].startswith("magnet:?xt=urn:btih:")
        assert "/processed/" in row["processed_url"]
    assert f"catalog: {report['catalog_path']} ({len(SPECS)} rows)" in output
    assert "make dev" in output and "dfc catalog" in output
    log = Path(report["event_log"])
    assert log.is_file() and str(log.parent) in output
    text = log.read_text()
    assert "STEP_START" in text and "DEBUG" in text and "RUN_SUCCESS" in text


def test_a_failure_in_json_carries_its_cause(tmp_path):
    workdir = tmp_path / "dfc"
    seed_sources(workdir / "sources")
    table = next(spec for spec in SPECS if spec.source.kind == "statcan_table")
    (workdir / "sources" / "n1" / "tbl" / "csv" / f"{table.source.product_id}-eng.zip").write_bytes(b"not a zip at all")
    result = run_demo(workdir, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    (failure,) = [f for f in report["failures"] if f.startswith(f"{table.key} version") and "run " in f]
    assert "__raw" in failure and "PublicationError" in failure and "not a zip" in failure, failure
