"""Runs on the embedded default, in this process: local services, a Dagster instance in DIR, the definitions."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import execute_run
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster._core.remote_origin import ManagedGrpcPythonEnvCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from dfc_assets.cli.run_liveness import patch_pool_wait, process_tags, sweep_dead_runs, wait_for_pools, was_interrupted
from dfc_assets.cli.sqlite_instance import sqlite_kept_open
from dfc_assets.defs.jobs import CATALOG_JOB, publish_job_name
from dfc_assets.partitions import contiguous_batches, dataset_run_tags, partition_key, partitions_name, partitions_per_run, shard_of, split_partition_key
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
run_coordinator:
  module: dfc_assets.defs.run_coordinator
  class: DatasetTagsRunCoordinator
"""

CODE_LOCATION = "dfc_assets"
DEFINITIONS_MODULE = "dfc_assets.definitions"
REPOSITORY = "__repository__"  # the name Dagster gives the repository of a Definitions object


def prepare_dagster_home(workdir: Path) -> Path:
    home = Path(workdir) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML, encoding="utf-8")
    return home


def remote_origin(job_name: str) -> RemoteJobOrigin:
    """The origin of a job in the code location `dfc_assets` (workspace.yaml), which lets the UI re-execute the run."""
    target = LoadableTargetOrigin(executable_path=sys.executable, module_name=DEFINITIONS_MODULE, working_directory=os.getcwd())
    location = ManagedGrpcPythonEnvCodeLocationOrigin(loadable_target_origin=target, location_name=CODE_LOCATION)
    return RemoteJobOrigin(repository_origin=RemoteRepositoryOrigin(code_location_origin=location, repository_name=REPOSITORY), job_name=job_name)


def current_definitions() -> dg.Definitions:
    """The definitions of the registry in force now (DFC_REGISTRY may change while a process lives, as in tests).

    In-process runs reconstruct their job from `dfc_assets.definitions.defs`, so that module attribute is
    replaced when the registry file differs from the one it was built from.
    """
    from dfc_assets import definitions
    from dfc_assets.registry import default_registry_path

    wanted = str(default_registry_path())
    if getattr(definitions, "built_from_registry", None) != wanted:
        definitions.defs = definitions.build_definitions()
        definitions.built_from_registry = wanted
    return definitions.defs


@dataclass
class Embedded:
    workdir: Path
    settings: Settings
    defs: dg.Definitions
    instance: dg.DagsterInstance
    say: Callable[[str], None] = print
    console_log_level: str = "DEBUG"

    def run_job(self, job_name: str, tags: Mapping[str, str]):
        """One run of a job of the code location in this process, once the job's pools have a free slot.

        Recorded as a run of that location's job (so the UI can re-execute it, on any launcher), with the
        tags a queued run would get and the tags naming this process (run_liveness)."""
        from dfc_assets.definitions import in_process_run_config

        repository = ReconstructableRepository.for_module(DEFINITIONS_MODULE, "defs", working_directory=os.getcwd())
        job = repository.get_reconstructable_job(job_name)
        self.defs = current_definitions()
        job_def = self.defs.resolve_job_def(job_name)
        wait_for_pools(self.instance, job_def, self.say)
        run_config = {**in_process_run_config(), "loggers": {"console": {"config": {"log_level": self.console_log_level}}}}
        with sqlite_kept_open():  # the run's own event file, for as long as the run
            run = self.instance.create_run_for_job(
                job_def=job_def, run_config=run_config, tags={**tags, **process_tags()},
                remote_job_origin=remote_origin(job_name), job_code_origin=job.get_python_origin(),
            )
            result = execute_run(job, run, self.instance)
        if was_interrupted(result):
            raise KeyboardInterrupt(f"run {result.run_id} of {job_name} was interrupted")
        return result

    def publish_run(self, spec: DatasetSpec, version: str):
        """Run the publishing job of the dataset's shard for one version (partition `{dataset}:{version}`)."""
        shard, key = shard_of(spec), partition_key(spec.key, version)
        self.instance.add_dynamic_partitions(partitions_name(shard), [key])
        return self.run_job(publish_job_name(shard), {"dagster/partition": key, **dataset_run_tags(key, shard), "dfc/trigger": "cli"})

    def publish(self, spec: DatasetSpec, version: str) -> str | None:
        """Publish one version; the failure, if any."""
        result = self.publish_run(spec, version)
        return None if result.success else f"{spec.key} version {version}: run {result.run_id} failed: {first_failure(result)}"

    def unfinished(self, versions: list[tuple[DatasetSpec, str]]) -> list[tuple[DatasetSpec, str]]:
        """The versions some publishing step has not finished for, as the store says (``Published.finished``);
        a version stopped after any step is among them (its run resumes it)."""
        from dfc_assets.defs.resources import object_store
        from dfc_assets.publication.published import Published

        finished = Published(object_store(self.settings)).finished((spec.id, version) for spec, version in versions)
        return [(spec, version) for spec, version in versions if (spec.id, version) not in finished]

    def batch_run(self, shard: str, keys: list[str]):
        """One run of the shard's job over a contiguous stretch of its partition set (a range)."""
        tags = {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1], **dataset_run_tags(keys, shard), "dfc/trigger": "cli"}
        return self.run_job(publish_job_name(shard), tags)

    def publish_many(self, versions: list[tuple[DatasetSpec, str]], per_run: int | None = None,
                     progress: Callable[[str], None] | None = None) -> list[str]:
        """Publish many versions, up to ``per_run`` (DFC_PARTITIONS_PER_RUN) a run; the failures, one per failed version.

        The versions of a shard are added as partitions in one request and run in contiguous ranges; when a range
        run fails, each of its versions not yet published is run again alone, so the error names its version."""
        from dfc_assets.defs.automation import unpublished_partitions

        per_run = per_run or partitions_per_run()
        specs = {partition_key(spec.key, version): spec for spec, version in versions}
        by_shard: dict[str, list[str]] = {}
        for key, spec in specs.items():
            by_shard.setdefault(shard_of(spec), []).append(key)
        failures: list[str] = []
        for shard, keys in by_shard.items():
            self.instance.add_dynamic_partitions(partitions_name(shard), keys)
            order = self.instance.get_dynamic_partitions(partitions_name(shard))
            for batch in contiguous_batches(order, keys, per_run):
                if progress:
                    progress(f"{batch[0]}" + (f" .. {batch[-1]} ({len(batch)} versions)" if len(batch) > 1 else ""))
                if len(batch) == 1:
                    failure = self.publish(specs[batch[0]], split_partition_key(batch[0])[1])
                    failures.extend([failure] if failure else [])
                    continue
                result = self.batch_run(shard, batch)
                if result.success:
                    continue
                self.say(f"run {result.run_id} over {len(batch)} versions failed ({first_failure(result)}); each unpublished version again alone")
                for key in unpublished_partitions(self.instance, self.instance.get_run_by_id(result.run_id)):
                    failure = self.publish(specs[key], split_partition_key(key)[1])
                    failures.extend([failure] if failure else [])
        return failures

    def catalog_run(self):
        return self.run_job(CATALOG_JOB, {"dfc/trigger": "cli"})

    def build_catalog(self) -> str | None:
        result = self.catalog_run()
        return None if result.success else f"catalog: run {result.run_id} failed: {first_failure(result)}"


def first_failure(result) -> str:
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
        stack.enter_context(sqlite_kept_open())  # before the instance: its files are kept open for the session
        instance = stack.enter_context(dg.DagsterInstance.get())
        defs = current_definitions()

        patch_pool_wait()
        sweep_dead_runs(instance, say)
        yield Embedded(workdir, load_settings(), defs, instance, say, console_log_level)
