"""The few Dagster GraphQL calls the CLI needs to act through a running webserver (the daemon does the work)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

REPOSITORY = {"repositoryLocationName": "dfc_assets", "repositoryName": "__repository__"}

ADD_PARTITION = """
mutation($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}"""

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on PartitionSetNotFoundError { message }
  }
}"""

BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status }
    ... on PythonError { message }
  }
}"""


class DagsterApiError(RuntimeError):
    pass


class DagsterApi:
    def __init__(self, webserver_url: str, timeout: float = 60.0) -> None:
        self.url = webserver_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout)

    def query(self, document: str, variables: dict) -> dict:
        response = self.client.post(f"{self.url}/graphql", json={"query": document, "variables": variables})
        if response.status_code != 200:
            raise DagsterApiError(f"Dagster webserver at {self.url} answered {response.status_code}: {response.text[:300]}")
        body = response.json()
        if body.get("errors"):
            raise DagsterApiError(f"GraphQL error from {self.url}: {body['errors'][0].get('message')}")
        return body["data"]

    def add_partition(self, partitions_name: str, key: str) -> None:
        answer = self.query(ADD_PARTITION, {"repo": REPOSITORY, "name": partitions_name, "key": key})["addDynamicPartition"]
        if answer["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            raise DagsterApiError(f"adding partition {key!r} to {partitions_name}: {answer.get('message', answer['__typename'])}")

    def launch_backfill(self, asset_paths: Sequence[Sequence[str]], partitions: Sequence[str], tags: dict[str, str]) -> str:
        params = {
            "assetSelection": [{"path": list(path)} for path in asset_paths],
            "partitionNames": list(partitions),
            "fromFailure": False,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        answer = self.query(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if answer["__typename"] != "LaunchBackfillSuccess":
            raise DagsterApiError(f"launching the backfill failed: {answer.get('message', answer['__typename'])}")
        return answer["backfillId"]

    def backfill_status(self, backfill_id: str) -> str:
        answer = self.query(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if answer["__typename"] != "PartitionBackfill":
            raise DagsterApiError(f"backfill {backfill_id}: {answer.get('message', answer['__typename'])}")
        return answer["status"]

    def wait_for_backfill(self, backfill_id: str, timeout: float, poll: float = 2.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = self.backfill_status(backfill_id)
            if status not in ("REQUESTED", "CANCELING"):
                return status
            if time.monotonic() > deadline:
                raise DagsterApiError(f"backfill {backfill_id} still {status} after {timeout:g} s")
            time.sleep(poll)
