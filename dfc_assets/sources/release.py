"""What upstream publishes now, as a version key, and fetching that release's files."""

from __future__ import annotations

import email.utils
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

from dfc_assets.registry import DatasetSpec, StatcanBoundarySource, StatcanTableSource
from dfc_assets.settings import Settings
from dfc_assets.sources.http_download import DownloadedFile, SourceError, download
from dfc_assets.sources.statcan_wds import WdsClient
from dfc_assets.versions import release_of, validate_version_key, version_from_timestamp

CUBE_METADATA_SUFFIX = ".cube-metadata.json"


@dataclass(frozen=True)
class UpstreamRelease:
    dataset_id: str
    version: str
    release_time: str | None
    urls: tuple[str, ...]
    cube_metadata: dict | None = None


def current_release(spec: DatasetSpec, settings: Settings, client: httpx.Client) -> UpstreamRelease:
    """The release upstream serves right now and the version key it becomes."""
    source = spec.source
    if isinstance(source, StatcanTableSource):
        wds = WdsClient(client, settings.wds_base_url)
        metadata = wds.cube_metadata(source.product_id)
        release_time = metadata.get("releaseTime")
        if not release_time:
            raise SourceError(f"dataset {spec.key}: WDS metadata of table {source.product_id} has no releaseTime")
        urls = tuple(wds.full_table_csv_url(source.product_id, language) for language in source.languages)
        return UpstreamRelease(spec.id, version_from_timestamp(release_time), release_time, urls, metadata)
    if isinstance(source, StatcanBoundarySource):
        url = settings.expand(source.url)
        try:
            response = client.head(url, follow_redirects=True)
        except httpx.HTTPError as error:
            raise SourceError(f"dataset {spec.key}: HEAD {url} failed: {error}") from None
        if response.status_code != 200:
            raise SourceError(f"dataset {spec.key}: HEAD {url} answered {response.status_code}")
        last_modified = response.headers.get("Last-Modified")
        if not last_modified:
            raise SourceError(f"dataset {spec.key}: {url} sends no Last-Modified; its release date cannot be known")
        released = email.utils.parsedate_to_datetime(last_modified).astimezone(timezone.utc)
        version = validate_version_key(released.strftime("%Y-%m-%d"), dataset=spec.key)
        return UpstreamRelease(spec.id, version, released.isoformat(timespec="seconds"), (url,))
    raise SourceError(f"dataset {spec.key}: unsupported source kind {source.kind!r}")


def fetch_release(
    spec: DatasetSpec, version: str, settings: Settings, client: httpx.Client, dest_dir: Path,
    log: Callable[[str], None] = lambda m: None,
) -> list[DownloadedFile]:
    """Download the files of ``version``; refuses when upstream has moved on (old versions come from archive/)."""
    label = f"dataset {spec.key} version {version}"
    if isinstance(spec.source, StatcanBoundarySource):
        past_url, _, _ = spec.source.for_version(version)
        if past_url is not None:
            return [download(client, settings.expand(past_url), dest_dir, label=label, log=log)]
    release = current_release(spec, settings, client)
    if release_of(version) != release.version:
        raise SourceError(
            f"{label}: upstream now publishes version {release.version}; version {version} is not in archive/ "
            "and can no longer be downloaded (add it to the registry as a per-version source URL to backfill it)"
        )
    files = [download(client, url, dest_dir, label=label, log=log) for url in release.urls]
    if release.cube_metadata is not None:
        files.append(_metadata_file(spec, release, settings, dest_dir))
    return files


def _metadata_file(spec: DatasetSpec, release: UpstreamRelease, settings: Settings, dest_dir: Path) -> DownloadedFile:
    """The getCubeMetadata answer is archived beside the CSV so a rebuild from archive/ sees the same metadata."""
    product_id = spec.source.product_id  # type: ignore[union-attr]
    data = (json.dumps(release.cube_metadata, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
    path = dest_dir / f"{product_id}{CUBE_METADATA_SUFFIX}"
    path.write_bytes(data)
    return DownloadedFile(
        url=f"{settings.wds_base_url.rstrip('/')}/getCubeMetadata#productId={product_id}",
        file_name=path.name, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        etag=None, last_modified=None, retrieved_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
