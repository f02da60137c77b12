"""Issue 12.1: which runs outlived their process, judged on a real SQLite instance like the embedded default's."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from dfc_assets.cli.run_liveness import HOST_TAG, PID_TAG, PROCESS_START_TAG, process_tags, slot_holders, sweep_dead_runs
from dfc_assets.processes import process_start

POOL = "zenodo_api"


@pytest.fixture
def instance(tmp_path):
    (tmp_path / "dagster.yaml").write_text("concurrency:\n  pools:\n    default_limit: 1\n")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance


@pytest.fixture
def live_process():
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) as process:
        yield process
        process.kill()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def add_run(instance, tags=None, status=DagsterRunStatus.STARTED, slot=True) -> str:
    run_id = str(uuid.uuid4())
    instance.add_run(DagsterRun(job_name="publish", run_id=run_id, status=status, tags=tags or {}))
    if slot:
        instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)
        instance.event_log_storage.claim_concurrency_slot(POOL, run_id, f"step_{run_id[:8]}")
    return run_id


def tags_of(pid: int, host: str | None = None, start: str | None = None) -> dict[str, str]:
    tags = {PID_TAG: str(pid), HOST_TAG: host or socket.gethostname()}
    if start is not None:
        tags[PROCESS_START_TAG] = start
    return tags


def status(instance, run_id) -> DagsterRunStatus:
    return instance.get_run_by_id(run_id).status


def test_a_run_of_a_dead_process_is_failed_and_its_slot_freed(instance):
    run_id = add_run(instance, tags_of(dead_pid()))
    assert run_id in slot_holders(instance)
    assert sweep_dead_runs(instance) == [run_id]
    assert status(instance, run_id) == DagsterRunStatus.FAILURE
    assert run_id not in slot_holders(instance)


def test_a_run_of_a_live_process_is_left_alone(instance, live_process):
    run_id = add_run(instance, tags_of(live_process.pid, start=process_start(live_process.pid)))
    assert sweep_dead_runs(instance) == []
    assert status(instance, run_id) == DagsterRunStatus.STARTED and run_id in slot_holders(instance)


def test_a_reused_pid_is_not_the_run_process(instance, live_process):
    run_id = add_run(instance, tags_of(live_process.pid, start="1"))  # same pid, another process start
    assert sweep_dead_runs(instance) == [run_id]


def test_an_exited_process_not_yet_reaped_is_gone(instance):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        child.kill()
        while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
            pass
        run_id = add_run(instance, tags_of(child.pid))
        assert sweep_dead_runs(instance) == [run_id]
    finally:
        child.wait()


def test_a_run_on_another_host_is_left_to_its_host(instance):
    run_id = add_run(instance, tags_of(dead_pid(), host="elsewhere.example"))
    assert sweep_dead_runs(instance) == []
    assert status(instance, run_id) == DagsterRunStatus.STARTED


def test_a_dagster_dev_run_whose_worker_died_is_failed(instance, live_process):
    dead, alive = add_run(instance), add_run(instance, slot=False)
    instance.report_engine_event(f"Started process for run (pid: {dead_pid()}).", instance.get_run_by_id(dead), EngineEventData.in_process(dead_pid()))
    instance.report_engine_event("Started process for run", instance.get_run_by_id(alive), EngineEventData.in_process(live_process.pid))
    assert sweep_dead_runs(instance) == [dead]
    assert status(instance, alive) == DagsterRunStatus.STARTED
    assert sweep_dead_runs(instance, local_instance=False) == []


def test_a_finished_run_never_keeps_a_slot(instance):
    run_id = add_run(instance, status=DagsterRunStatus.SUCCESS)
    assert run_id in slot_holders(instance)
    sweep_dead_runs(instance)
    assert run_id not in slot_holders(instance)


def test_this_process_tags_itself():
    tags = process_tags()
    assert tags[HOST_TAG] == socket.gethostname() and int(tags[PID_TAG]) > 0 and tags[PROCESS_START_TAG]
