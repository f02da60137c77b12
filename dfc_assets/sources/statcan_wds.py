"""StatCan's Web Data Service (WDS): cube metadata and full-table CSV download URLs."""

from __future__ import annotations

import httpx

from dfc_assets.sources.http_download import SourceError


class WdsClient:
    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")

    def _success_object(self, response: httpx.Response, what: str):
        if response.status_code != 200:
            raise SourceError(f"WDS {what} answered {response.status_code}")
        body = response.json()
        entry = body[0] if isinstance(body, list) and body else body
        if not isinstance(entry, dict) or entry.get("status") != "SUCCESS":
            raise SourceError(f"WDS {what} did not succeed: {str(entry)[:200]}")
        return entry["object"]

    def cube_metadata(self, product_id: str) -> dict:
        try:
            response = self.client.post(f"{self.base_url}/getCubeMetadata", json=[{"productId": int(product_id)}])
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getCubeMetadata for table {product_id} failed: {error}") from None
        return self._success_object(response, f"getCubeMetadata for table {product_id}")

    def full_table_csv_url(self, product_id: str, language: str = "en") -> str:
        try:
            response = self.client.get(f"{self.base_url}/getFullTableDownloadCSV/{product_id}/{language}")
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getFullTableDownloadCSV for table {product_id} failed: {error}") from None
        return self._success_object(response, f"getFullTableDownloadCSV for table {product_id}")

    def changed_cubes(self, day: str) -> dict[str, str]:
        """Tables released on ``day`` (YYYY-MM-DD, Eastern): product id -> releaseTime. One call covers every table."""
        try:
            response = self.client.get(f"{self.base_url}/getChangedCubeList/{day}")
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getChangedCubeList/{day} failed: {error}") from None
        return {str(entry["productId"]): entry.get("releaseTime", "") for entry in self._success_object(response, f"getChangedCubeList/{day}")}
