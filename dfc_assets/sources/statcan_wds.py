"""StatCan's Web Data Service (WDS): cube metadata and full-table CSV download URLs.

WDS reports failures inside HTTP 200 (``{"status": "FAILED", "object": "..."}``); those,
non-JSON answers and HTTP errors all become a ``SourceError`` saying which call failed and why.
"""

from __future__ import annotations

import httpx

from dfc_assets.sources.http_download import SourceError


class WdsClient:
    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")

    def _success_object(self, response: httpx.Response, what: str):
        if response.status_code != 200:
            raise SourceError(f"WDS {what} answered HTTP {response.status_code}; StatCan's API is failing, try again later")
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise SourceError(f"WDS {what} answered HTTP 200 without JSON ({kind}; starts {response.text[:80]!r})") from None
        entry = body[0] if isinstance(body, list) and body else body
        if not isinstance(entry, dict):
            raise SourceError(f"WDS {what} answered an unexpected shape: {str(body)[:200]}")
        if entry.get("status") != "SUCCESS":
            raise SourceError(f"WDS {what} answered status {entry.get('status')!r} inside HTTP 200: {str(entry.get('object'))[:200]}")
        return entry["object"]

    def cube_metadata(self, product_id: str) -> dict:
        try:
            response = self.client.post(f"{self.base_url}/getCubeMetadata", json=[{"productId": int(product_id)}])
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getCubeMetadata for table {product_id} failed: {error}") from None
        metadata = self._success_object(response, f"getCubeMetadata for table {product_id}")
        if not isinstance(metadata, dict):
            raise SourceError(f"WDS getCubeMetadata for table {product_id} answered {str(metadata)[:200]} instead of the metadata")
        return metadata

    def full_table_csv_url(self, product_id: str, language: str = "en") -> str:
        try:
            response = self.client.get(f"{self.base_url}/getFullTableDownloadCSV/{product_id}/{language}")
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getFullTableDownloadCSV for table {product_id} failed: {error}") from None
        url = self._success_object(response, f"getFullTableDownloadCSV for table {product_id}")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SourceError(f"WDS getFullTableDownloadCSV for table {product_id} answered {str(url)[:200]!r} instead of a URL")
        return url

    def changed_cubes(self, day: str) -> dict[str, str]:
        """Tables released on ``day`` (YYYY-MM-DD, Eastern): product id -> releaseTime. One call covers every table."""
        try:
            response = self.client.get(f"{self.base_url}/getChangedCubeList/{day}")
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getChangedCubeList/{day} failed: {error}") from None
        return {str(entry["productId"]): entry.get("releaseTime", "") for entry in self._success_object(response, f"getChangedCubeList/{day}")}

    def all_cubes_list_lite(self) -> list[dict]:
        """Every WDS table (a bare JSON array, no status wrapper): productId, titles, releaseTime (UTC), subjects..."""
        try:
            response = self.client.get(f"{self.base_url}/getAllCubesListLite")
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getAllCubesListLite failed: {error}") from None
        if response.status_code != 200:
            raise SourceError(f"WDS getAllCubesListLite answered HTTP {response.status_code}; StatCan's API is failing, try again later")
        try:
            cubes = response.json()
        except ValueError:
            raise SourceError(f"WDS getAllCubesListLite answered HTTP 200 without JSON (starts {response.text[:80]!r})") from None
        if not isinstance(cubes, list) or not all(isinstance(cube, dict) and "productId" in cube for cube in cubes):
            raise SourceError(f"WDS getAllCubesListLite answered an unexpected shape: {str(cubes)[:200]}")
        return cubes

    def code_sets(self) -> dict:
        """getCodeSets: code -> name tables (subject, survey, frequency, ...)."""
        try:
            response = self.client.get(f"{self.base_url}/getCodeSets")
        except httpx.HTTPError as error:
            raise SourceError(f"WDS getCodeSets failed: {error}") from None
        code_sets = self._success_object(response, "getCodeSets")
        if not isinstance(code_sets, dict):
            raise SourceError(f"WDS getCodeSets answered {str(code_sets)[:200]} instead of the code sets")
        return code_sets
