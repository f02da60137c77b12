"""Issue 8: the production deployment files are valid, and the compose topology publishes a version without containers.

Static part: docker/dagster.yaml, docker/ecs/dagster.yaml (instance schema + each run launcher's schema),
docker/workspace.yaml (workspace schema), docker/docker-compose.yaml (`docker compose config`).
Live part: PostgreSQL from the distribution, `dagster code-server start`, `dagster-daemon run` and
`dagster-webserver` as separate processes on docker/dagster.yaml (default run launcher instead of Docker's),
the local services for the data side; a version is added and published through GraphQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import psycopg2
import pytest
import yaml

from dfc_assets.defs.jobs import publish_job_name
from dfc_assets.partitions import partition_key, partitions_name, shard_of
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.storage import VersionKeys
from dfc_assets_tests.e2e.topology_graphql import TERMINAL_RUN_STATUSES, DagsterGraphQL
from dfc_assets_tests.e2e.topology_postgres import ThrowawayPostgres, postgres_bin_dir
from dfc_assets_tests.e2e.topology_processes import ManagedProcess, free_port, wait_until

pytestmark = pytest.mark.e2e

DOCKER_DIR = Path(__file__).resolve().parents[2] / "docker"
BIN = Path(sys.executable).parent
BOUNDARY = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")
BOUNDARY_VERSION = "2022-02-09"
BOUNDARY_SHARD = shard_of(BOUNDARY)
BOUNDARY_PARTITION = partition_key(BOUNDARY.key, BOUNDARY_VERSION)
FAKE_POSTGRES_ENV = {"DAGSTER_POSTGRES_HOST": "postgres", "DAGSTER_POSTGRES_PORT": "5432", "DAGSTER_POSTGRES_USER": "dagster",
                     "DAGSTER_POSTGRES_PASSWORD": "secret", "DAGSTER_POSTGRES_DB": "dagster", "DFC_DAGSTER_LOGS_BUCKET": "logs"}


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def validated_instance(directory: Path, monkeypatch) -> dict:
    from dagster._core.instance.config import dagster_instance_config

    for name, value in FAKE_POSTGRES_ENV.items():
        monkeypatch.setenv(name, value)
    config, _custom_instance_class = dagster_instance_config(str(directory))
    return config


def launcher_config_errors(launcher_class, config: dict) -> list[str]:
    from dagster._config import process_config

    result = process_config(launcher_class.config_type(), config)
    return [] if result.success else [error.message for error in result.errors]


# ---------------------------------------------------------------- static: the files in docker/

def test_production_instance_is_valid_and_sets_the_operational_limits(monkeypatch):
    config = validated_instance(DOCKER_DIR, monkeypatch)
    assert set(config["storage"]) == {"postgres"}
    assert (config["run_coordinator"]["module"], config["run_coordinator"]["class"]) == ("dfc_assets.defs.run_coordinator", "DatasetTagsRunCoordinator")
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "dfc/dataset", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    assert any(limit["key"] == "dfc/zenodo" for limit in limits)
    assert config["run_monitoring"]["enabled"] and config["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert config["run_retries"]["enabled"] and config["run_retries"]["retry_on_asset_or_op_failure"] is False
    assert config["telemetry"]["enabled"] is False and config["nux"]["enabled"] is False
    assert config["run_launcher"]["class"] == "DockerRunLauncher"


def test_docker_run_launcher_config_matches_its_schema_and_the_compose_network(monkeypatch):
    dagster_docker = pytest.importorskip("dagster_docker", reason="dagster-docker is only in the image; install dagster-docker==0.29.27 to check its schema")
    config = validated_instance(DOCKER_DIR, monkeypatch)["run_launcher"]["config"]
    assert launcher_config_errors(dagster_docker.DockerRunLauncher, config) == []
    compose = load_yaml(DOCKER_DIR / "docker-compose.yaml")
    assert config["network"] == compose["networks"]["dfc"]["name"]
    forwarded = set(config["env_vars"])
    assert {"DFC_ZENODO_TOKEN", "AWS_SECRET_ACCESS_KEY", "DAGSTER_POSTGRES_PASSWORD"} <= forwarded
    assert forwarded <= set(compose["x-dagster-environment"]), "every variable the launcher forwards must reach the daemon"


def test_ecs_instance_is_valid_for_the_ecs_run_launcher(monkeypatch):
    from dagster_aws.ecs import EcsRunLauncher
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager

    config = validated_instance(DOCKER_DIR / "ecs", monkeypatch)
    assert config["run_launcher"]["class"] == "EcsRunLauncher"
    assert launcher_config_errors(EcsRunLauncher, config["run_launcher"]["config"]) == []
    assert launcher_config_errors(S3ComputeLogManager, config["compute_logs"]["config"]) == []
    assert "DFC_ZENODO_TOKEN" not in config["run_launcher"]["config"]["env_vars"], "ECS runs get secrets from Secrets Manager"


def test_helm_values_use_the_k8s_run_launcher_with_the_same_queue_limits(monkeypatch):
    values = load_yaml(DOCKER_DIR / "kubernetes" / "values.yaml")
    instance = validated_instance(DOCKER_DIR, monkeypatch)
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["concurrency"]["runs"]["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["codeServerArgs"][:2] == ["--module-name", "dfc_assets.definitions"]
    assert values["dagsterDaemon"]["runMonitoring"]["enabled"] and values["dagsterDaemon"]["runRetries"]["enabled"]


def test_workspace_points_at_the_code_location_grpc_server():
    from dagster._core.workspace.config_schema import ensure_workspace_config

    workspace = ensure_workspace_config(load_yaml(DOCKER_DIR / "workspace.yaml"), str(DOCKER_DIR))
    (entry,) = workspace["load_from"]
    compose = load_yaml(DOCKER_DIR / "docker-compose.yaml")
    assert entry["grpc_server"]["host"] in compose["services"]
    assert entry["grpc_server"]["location_name"] == "dfc_assets"
    assert str(entry["grpc_server"]["port"]) in " ".join(compose["services"]["code_location"]["healthcheck"]["test"])


def compose_config_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_file_passes_docker_compose_config(tmp_path):
    command = compose_config_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (.ci/run installs Debian's docker-compose)")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DAGSTER_POSTGRES_PASSWORD": "secret", "DFC_ZENODO_TOKEN": "token-value"}
    result = subprocess.run([*command, "--project-directory", str(DOCKER_DIR), "-f", str(DOCKER_DIR / "docker-compose.yaml"), "config"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    services = resolved["services"]
    assert set(services) == {"postgres", "code_location", "webserver", "daemon"}
    assert services["daemon"]["environment"]["DAGSTER_POSTGRES_PASSWORD"] == "secret"
    assert any("/var/run/docker.sock" in str(volume) for volume in services["daemon"]["volumes"])
    assert services["webserver"]["ports"], "the UI is published"
    missing = subprocess.run([*command, "--project-directory", str(DOCKER_DIR), "-f", str(DOCKER_DIR / "docker-compose.yaml"), "config"],
                             capture_output=True, text=True, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)}, timeout=60)
    assert missing.returncode != 0 and "DAGSTER_POSTGRES_PASSWORD" in missing.stdout + missing.stderr


# ---------------------------------------------------------------- live: the topology as processes

class Topology:
    def __init__(self, graphql: DagsterGraphQL, store_root: Path, postgres, processes: list[ManagedProcess]) -> None:
        self.graphql, self.store_root, self.postgres, self.processes = graphql, store_root, postgres, processes

    def sql(self, statement: str, *params) -> list[tuple]:
        pg = self.postgres
        with psycopg2.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.database) as connection:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall()


def production_instance_yaml() -> str:
    """docker/dagster.yaml with Dagster's default run launcher (a subprocess per run) in place of Docker's."""
    config = load_yaml(DOCKER_DIR / "dagster.yaml")
    config.pop("run_launcher")
    return yaml.safe_dump(config, sort_keys=False)


def local_workspace_yaml(port: int) -> str:
    workspace = load_yaml(DOCKER_DIR / "workspace.yaml")
    workspace["load_from"][0]["grpc_server"].update(host="127.0.0.1", port=port)
    return yaml.safe_dump(workspace, sort_keys=False)


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: `apt-get install postgresql` (.ci/run does)")
    workdir = tmp_path_factory.mktemp("topology")
    logs = workdir / "logs"
    logs.mkdir()
    with ExitStack() as stack:
        postgres_server = ThrowawayPostgres()
        postgres = stack.enter_context(postgres_server)
        services = stack.enter_context(LocalServices(workdir / "embedded"))
        home = workdir / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(production_instance_yaml(), encoding="utf-8")
        grpc_port, web_port = free_port(), free_port()
        workspace = home / "workspace.yaml"
        workspace.write_text(local_workspace_yaml(grpc_port), encoding="utf-8")
        env = {**os.environ, **postgres.environment(), "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1",
               "DFC_SERVICES_FILE": str(workdir / "embedded" / SERVICES_FILE)}

        migrate = subprocess.run([str(BIN / "dagster"), "instance", "migrate"], env=env, capture_output=True, text=True, timeout=180)
        assert migrate.returncode == 0, f"dagster instance migrate on Postgres failed:\n{migrate.stdout}\n{migrate.stderr}\n{postgres_server.log_tail()}"

        processes: list[ManagedProcess] = []

        def start(name: str, *command: str) -> ManagedProcess:
            process = ManagedProcess(name, command, env=env, log_dir=logs, cwd=workdir)
            processes.append(process)
            stack.callback(process.stop)
            return process

        start("code-server", str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p", str(grpc_port),
              "-m", "dfc_assets.definitions", "--location-name", "dfc_assets")
        health = [str(BIN / "dagster"), "api", "grpc-health-check", "-p", str(grpc_port), "-h", "127.0.0.1"]
        wait_until(lambda: subprocess.run(health, env=env, capture_output=True, timeout=30).returncode == 0,
                   timeout=180, what="the gRPC code server to serve", interval=1.0, processes=processes)
        start("webserver", str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace))
        start("daemon", str(BIN / "dagster-daemon"), "run", "-w", str(workspace))

        graphql = DagsterGraphQL(f"http://127.0.0.1:{web_port}")
        stack.callback(graphql.close)
        wait_until(graphql.server_info, timeout=180, what="the webserver's /server_info", processes=processes)
        wait_until(lambda: graphql.location_status() == "LOADED", timeout=180, what="code location dfc_assets LOADED", processes=processes)
        wait_until(lambda: graphql.daemon_health().get("QUEUED_RUN_COORDINATOR"), timeout=180,
                   what="the daemon's run queue to report healthy", interval=1.0, processes=processes)
        yield Topology(graphql, Path(services.store_root), postgres, processes)


def test_a_version_published_through_webserver_daemon_and_code_server_gets_a_doi(topology):
    graphql = topology.graphql
    graphql.add_dynamic_partition(partitions_name(BOUNDARY_SHARD), BOUNDARY_PARTITION)
    run_id = graphql.launch_partition_run(publish_job_name(BOUNDARY_SHARD), BOUNDARY_PARTITION)  # as the UI does: no dfc tags

    status = wait_until(lambda: (s := graphql.run_status(run_id)) in TERMINAL_RUN_STATUSES and s, timeout=420, interval=1.0,
                        what=f"run {run_id} (publish {BOUNDARY.key} {BOUNDARY_VERSION}) to finish", processes=topology.processes)
    assert status == "SUCCESS", graphql.run_failure_messages(run_id)

    records = list((topology.store_root / "releases" / BOUNDARY.id / BOUNDARY_VERSION).glob("*.zenodo.json"))
    assert [r.name for r in records] == [Path(VersionKeys(BOUNDARY.id, BOUNDARY_VERSION).zenodo_record).name]
    record = json.loads(records[0].read_text())
    assert record["doi"].startswith("10.5072/zenodo.") and record["version"] == BOUNDARY_VERSION

    # The run went through Postgres and the queue: its row and its RUN_ENQUEUED event are there.
    assert topology.sql("select status from runs where run_id = %s", run_id) == [("SUCCESS",)]
    # Dagster stores run-level events under their legacy PIPELINE_* names.
    events = {row[0].replace("PIPELINE_", "RUN_") for row in topology.sql("select dagster_event_type from event_logs where run_id = %s and dagster_event_type is not null", run_id)}
    assert {"RUN_ENQUEUED", "RUN_START", "RUN_SUCCESS", "ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"} <= events
    materialized = {row[0] for row in topology.sql("select asset_key from asset_keys")}
    assert any(BOUNDARY_SHARD in key and "zenodo_record" in key for key in materialized)
    # The run coordinator tagged the run before it was queued, so the per-dataset queue limits applied to it.
    tags = dict(topology.sql("select key, value from run_tags where run_id = %s", run_id))
    assert tags["dfc/dataset"] == BOUNDARY.key and tags["dfc/shard"] == BOUNDARY_SHARD and tags["dagster/partition"] == BOUNDARY_PARTITION


def test_the_partition_is_stored_in_postgres_for_every_process(topology):
    keys = topology.sql("select partition from dynamic_partitions where partitions_def_name = %s", partitions_name(BOUNDARY_SHARD))
    assert (BOUNDARY_PARTITION,) in keys
