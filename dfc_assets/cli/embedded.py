"""Runs on the embedded default, in this process: local services, a Dagster instance in DIR, the definitions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from dfc_assets.cli.run_liveness import patch_pool_wait, process_tags, sweep_dead_runs, wait_for_pools, was_interrupted
from dfc_assets.defs.jobs import CATALOG_JOB, publish_job_name
from dfc_assets.registry import DatasetSpec
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices, running_services
from dfc_assets.settings import Settings, load_settings

LOCAL_DAGSTER_YAML = """\
# Local instance for `dagster dev` and the embedded default (SQLite under $DAGSTER_HOME); the same as ./dagster.yaml.
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  pools:
    default_limit: 1
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 300
"""


def prepare_dagster_home(workdir: Path) -> Path:
    home = Path(workdir) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML, encoding="utf-8")
    return home


@dataclass
class Embedded:
    workdir: Path
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance
    say: Callable[[str], None] = print
    console_log_level: str = "DEBUG"

    def execute(self, job_name: str, partition_key: str | None = None) -> dg.ExecuteInProcessResult:
        """One run in this process, tagged with it (run_liveness), once the job's pools have a free slot."""
        job = self.defs.resolve_job_def(job_name)
        wait_for_pools(self.instance, job, self.say)
        run_config = {"loggers": {"console": {"config": {"log_level": self.console_log_level}}}}
        result = job.execute_in_process(run_config=run_config, partition_key=partition_key, instance=self.instance,
                                        raise_on_error=False, tags=process_tags())
        if was_interrupted(result):
            raise KeyboardInterrupt(f"run {result.run_id} of {job_name} was interrupted")
        return result

    def publish(self, spec: DatasetSpec, version: str) -> str | None:
        """Run the dataset's publishing job for one version; the failure, if any."""
        self.instance.add_dynamic_partitions(spec.partitions_name, [version])
        result = self.execute(publish_job_name(spec), version)
        return None if result.success else f"{spec.key} version {version}: run {result.run_id} failed: {first_failure(result)}"

    def build_catalog(self) -> str | None:
        result = self.execute(CATALOG_JOB)
        return None if result.success else f"catalog: run {result.run_id} failed: {first_failure(result)}"


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step and its error with every cause, else the run's own failure."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            return f"{event.step_key}: {error_with_causes(event.step_failure_data.error)}"
    for event in result.all_events:
        if event.is_run_failure and event.job_failure_data and event.job_failure_data.error:
            return error_with_causes(event.job_failure_data.error)
        if event.is_run_failure and event.message:
            return event.message
    return "see the run's log"


def error_with_causes(error) -> str:
    parts = []
    while error is not None:
        if not (error.cls_name == "DagsterExecutionStepExecutionError" and error.cause is not None):  # only "Error occurred in op X"
            parts.append(" ".join(error.message.split()))
        error = error.cause
    return "; caused by ".join(parts)


@contextmanager
def embedded(workdir: Path, say: Callable[[str], None] = print, *, console_log_level: str = "DEBUG") -> Iterator[Embedded]:
    """Use the services already running for ``workdir`` or start them for the duration."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if running_services(workdir) is None:
            urls = stack.enter_context(LocalServices(workdir))
            say(f"started the local services for {workdir}: store {urls.store_url}, Zenodo {urls.zenodo_url}, sources {urls.sources_url}")
        else:
            say(f"using the local services already running for {workdir}")
        os.environ["DFC_SERVICES_FILE"] = str(workdir / SERVICES_FILE)
        os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(workdir))
        from dfc_assets.definitions import build_definitions

        instance = stack.enter_context(dg.DagsterInstance.get())
        patch_pool_wait()
        sweep_dead_runs(instance, say)
        yield Embedded(workdir, load_settings(), build_definitions(), instance, say, console_log_level)
