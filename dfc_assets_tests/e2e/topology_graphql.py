"""The few Dagster GraphQL calls an operator's UI makes, over plain HTTP (errors come back as union types)."""

from __future__ import annotations

import httpx

from dfc_assets.cli.dagster_api import DagsterApi

REPOSITORY_NAME = "__repository__"
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


class DagsterGraphQL:
    def __init__(self, base_url: str, location: str = "dfc_assets") -> None:
        self.base_url = base_url.rstrip("/")
        self.location = location
        self.client = httpx.Client(timeout=60)

    def close(self) -> None:
        self.client.close()

    def query(self, document: str, **variables) -> dict:
        response = self.client.post(f"{self.base_url}/graphql", json={"query": document, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def server_info(self) -> dict:
        response = self.client.get(f"{self.base_url}/server_info")
        response.raise_for_status()
        return response.json()

    def location_status(self) -> str | None:
        data = self.query("""{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
            locationOrLoadError { __typename ... on PythonError { message } } } } } }""")
        for entry in data["workspaceOrError"].get("locationEntries", []):
            if entry["name"] == self.location:
                error = entry["locationOrLoadError"]
                if error and error["__typename"] == "PythonError":
                    raise AssertionError(f"code location {self.location} failed to load: {error['message']}")
                return entry["loadStatus"]
        return None

    def daemon_health(self) -> dict[str, bool]:
        data = self.query("{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }")
        return {s["daemonType"]: bool(s["healthy"]) for s in data["instance"]["daemonHealth"]["allDaemonStatuses"] if s["required"]}

    def add_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        """The same call `dfc backfill --webserver` makes."""
        DagsterApi(self.base_url).add_partition(partitions_def_name, partition_key)

    def launch_partition_run(self, job_name: str, partition_key: str, tags: dict[str, str] | None = None) -> str:
        all_tags = {"dagster/partition": partition_key, **(tags or {})}
        data = self.query("""mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
              __typename ... on LaunchRunSuccess { run { runId } }
              ... on PythonError { message } ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } }
              ... on PipelineNotFoundError { message } ... on UnauthorizedError { message } } }""",
            params={"selector": {**self._repository(), "jobName": job_name}, "runConfigData": {},
                    "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]}})
        result = data["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise AssertionError(f"launchRun {job_name} partition {partition_key}: {result}")
        return result["run"]["runId"]

    def reexecute(self, parent_run_id: str) -> str:
        """What the UI's "Re-execute all" button sends."""
        data = self.query("""mutation($params: ReexecutionParams!) { launchRunReexecution(reexecutionParams: $params) {
              __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message stack }
              ... on PipelineNotFoundError { message } ... on InvalidSubsetError { message } ... on UnauthorizedError { message }
              ... on RunConfigValidationInvalid { errors { message } } } }""",
            params={"parentRunId": parent_run_id, "strategy": "ALL_STEPS"})
        result = data["launchRunReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise AssertionError(f"re-execution of run {parent_run_id}: {result}")
        return result["run"]["runId"]

    def run_tags(self, run_id: str) -> dict[str, str]:
        data = self.query("""query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { tags { key value } } } }""", id=run_id)
        return {tag["key"]: tag["value"] for tag in data["runOrError"].get("tags", [])}

    def latest_materialization(self, asset_path: list[str], partition: str | None = None) -> dict:
        """The newest materialization of an asset (of one partition when given): its partition and metadata, as the asset page shows them."""
        data = self.query("""query($key: AssetKeyInput!, $partitions: [String!]) { assetOrError(assetKey: $key) { __typename
              ... on Asset { assetMaterializations(limit: 1, partitions: $partitions) { partition runId metadataEntries { label
                ... on TextMetadataEntry { text } ... on UrlMetadataEntry { url } ... on IntMetadataEntry { intValue } } } } } }""",
            key={"path": asset_path}, partitions=[partition] if partition else None)
        (latest,) = data["assetOrError"]["assetMaterializations"]
        entries = {e["label"]: e.get("text") or e.get("url") or e.get("intValue") for e in latest["metadataEntries"]}
        return {"partition": latest["partition"], "run_id": latest["runId"], "metadata": entries}

    def run_status(self, run_id: str) -> str:
        data = self.query("""query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }""", id=run_id)
        return data["runOrError"].get("status", data["runOrError"]["__typename"])

    def run_failure_messages(self, run_id: str) -> list[str]:
        data = self.query("""query($id: ID!) { logsForRun(runId: $id, limit: 5000) { __typename ... on EventConnection {
              events { __typename ... on MessageEvent { message level } } } } }""", id=run_id)
        events = data["logsForRun"].get("events", [])
        return [e["message"] for e in events if e.get("level") in ("ERROR", "CRITICAL")]

    def _repository(self) -> dict:
        return {"repositoryLocationName": self.location, "repositoryName": REPOSITORY_NAME}
