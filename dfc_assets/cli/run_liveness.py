"""No run outlives its process, on the embedded default.

`dfc demo` and `dfc backfill --workdir` execute runs in their own process, with no daemon to notice when that
process dies (SIGKILL, OOM, a closed laptop). Each such run is tagged with the pid, host and start time of its
process; before running anything, and while waiting for a pool slot, runs whose process is gone are marked
failed and their pool slots freed, so a rerun finishes on its own. In production the daemon's run monitoring
does the same (docker/dagster.yaml).

Dagster 1.13's in-process wait for a pool slot never sleeps (``interval_to_next_pending_claim_check`` returns
``min(0, ...)``, dagster-io/dagster#20367, unmerged) and captures SIGINT/SIGTERM without acting on them while it
waits: ``patch_pool_wait`` makes it sleep and obey the signal.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

from dfc_assets.processes import process_is_gone, this_process

PID_TAG = "dfc/pid"
HOST_TAG = "dfc/host"
PROCESS_START_TAG = "dfc/process_start"

UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


def process_tags() -> dict[str, str]:
    """Tags naming the process that executes a run in process."""
    me = this_process()
    tags = {PID_TAG: me["pid"], HOST_TAG: me["host"]}
    if "start" in me:
        tags[PROCESS_START_TAG] = me["start"]
    return tags


def run_process_is_gone(tags: dict[str, str]) -> bool:
    return process_is_gone(tags.get(HOST_TAG), tags.get(PID_TAG), tags.get(PROCESS_START_TAG))


def sweep_dead_runs(instance: dg.DagsterInstance, say: Callable[[str], None] = lambda m: None) -> list[str]:
    """Mark failed every unfinished run whose process is gone, and free every pool slot held by a finished run.

    Returns the ids of the runs marked failed.
    """
    failed = []
    for run in instance.get_runs(RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()})):
        if not run_process_is_gone(run.tags):
            continue
        message = (f"dfc: the process that ran this run (pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) is gone, "
                   "killed before the run ended; marked failed and its pool slots freed")
        instance.report_run_failed(run, message=message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        say(f"run {run.run_id} ({run.job_name}) outlived its process {run.tags[PID_TAG]}: marked failed, its pool slots freed")
        failed.append(run.run_id)
    free_slots_of_finished_runs(instance)
    return failed


def slot_holders(instance: dg.DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    holders = set(storage.get_concurrency_run_ids())
    for pool in storage.get_concurrency_keys():
        holders |= {slot.run_id for slot in storage.get_concurrency_info(pool).claimed_slots}
    return holders


def free_slots_of_finished_runs(instance: dg.DagsterInstance) -> None:
    """A run that ended (or whose record is gone) holds no slot; the daemon does this after
    ``free_slots_after_run_end_seconds``, the embedded default has no daemon."""
    for run_id in slot_holders(instance):
        run = instance.get_run_by_id(run_id)
        if run is None or run.status in FINISHED:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def job_pools(job: dg.JobDefinition) -> set[str]:
    return {op.pool for op in job.all_node_defs if isinstance(op, dg.OpDefinition) and op.pool}


def busy_pools(instance: dg.DagsterInstance, pools: Iterable[str]) -> dict[str, set[str]]:
    """Pools with no free slot -> the runs holding them."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    default = instance.get_concurrency_config().pool_config.default_pool_limit
    known = set(storage.get_concurrency_keys())
    busy = {}
    for pool in pools:
        info = storage.get_concurrency_info(pool) if pool in known else None
        limit = info.slot_count if info is not None and info.limit is not None else default
        holders = {slot.run_id for slot in info.claimed_slots} if info is not None else set()
        if limit is not None and len(holders) >= limit:
            busy[pool] = holders
    return busy


def wait_for_pools(instance: dg.DagsterInstance, job: dg.JobDefinition, say: Callable[[str], None] = lambda m: None,
                   poll_seconds: float = 1.0) -> None:
    """Sleep (interruptible by SIGINT/SIGTERM) until every pool the job uses has a free slot, sweeping dead runs."""
    announced = set()
    while True:
        sweep_dead_runs(instance, say)
        busy = busy_pools(instance, job_pools(job))
        if not busy:
            return
        for pool, holders in busy.items():
            if (pool, frozenset(holders)) not in announced:
                say(f"{job.name}: waiting for pool {pool}, held by run(s) {', '.join(sorted(holders))}")
                announced.add((pool, frozenset(holders)))
        time.sleep(poll_seconds)


def patch_pool_wait() -> None:
    """Make Dagster's in-process wait for a pool slot sleep between claims and give way to SIGINT/SIGTERM."""
    from dagster._core.execution.plan.active import ActiveExecution
    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
    from dagster._utils.interrupts import check_captured_interrupt

    if getattr(InstanceConcurrencyContext, "_dfc_patched", False):
        return

    def interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
        if not self._pending_claims or not self._pending_timeouts:
            return 0.0
        return max(0.0, min(self._pending_timeouts.values()) - time.time())

    def sleep_til_ready(self: ActiveExecution) -> None:
        until = time.monotonic() + self.sleep_interval()
        while True:
            if check_captured_interrupt():
                raise KeyboardInterrupt("interrupted while waiting for a pool slot")
            left = until - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.25))

    InstanceConcurrencyContext.interval_to_next_pending_claim_check = interval_to_next_pending_claim_check
    ActiveExecution.sleep_til_ready = sleep_til_ready
    InstanceConcurrencyContext._dfc_patched = True


INTERRUPTIONS = {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}


def was_interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Dagster turns SIGINT/SIGTERM during a run into a failed run; the command that ran it must stop too."""
    for event in result.all_events:
        data = event.event_specific_data
        error = getattr(data, "error", None)
        while error is not None:
            if error.cls_name in INTERRUPTIONS:
                return True
            error = error.cause or error.context
    return False
