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

from dfc_assets.registry import URL_SOURCES, DatasetSpec, HttpFileSource, StatcanTableSource
from dfc_assets.settings import Settings
from dfc_assets.sources.content_check import ExpectedContent, check_content
from dfc_assets.sources.http_download import DownloadedFile, DownloadLimits, SourceError, download, status_problem, transport_problem
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


def expected_content(spec: DatasetSpec) -> ExpectedContent:
    """What the main upstream file of the dataset must be."""
    source = spec.source
    if isinstance(source, HttpFileSource):
        return "parquet" if source.format == "geoparquet" else source.format
    return "zip"


def current_release(spec: DatasetSpec, settings: Settings, client: httpx.Client, *, label: str | None = None) -> UpstreamRelease:
    """The release upstream serves right now and the version key it becomes."""
    label = label or f"dataset {spec.key}"
    source = spec.source
    if isinstance(source, StatcanTableSource):
        wds = WdsClient(client, settings.wds_base_url)
        try:
            metadata = wds.cube_metadata(source.product_id)
            urls = tuple(wds.full_table_csv_url(source.product_id, language) for language in source.languages)
        except SourceError as error:
            raise SourceError(f"{label}: {error}") from None
        release_time = metadata.get("releaseTime")
        if not release_time:
            raise SourceError(f"{label}: WDS metadata of table {source.product_id} has no releaseTime")
        return UpstreamRelease(spec.id, version_from_timestamp(release_time), release_time, urls, metadata)
    if isinstance(source, URL_SOURCES):
        url = settings.expand(source.url)
        last_modified = _last_modified(client, url, label)
        if not last_modified:
            raise SourceError(f"{label}: {url} sends no Last-Modified; its release date cannot be known")
        released = email.utils.parsedate_to_datetime(last_modified).astimezone(timezone.utc)
        version = validate_version_key(released.strftime("%Y-%m-%d"), dataset=spec.key)
        return UpstreamRelease(spec.id, version, released.isoformat(timespec="seconds"), (url,))
    raise SourceError(f"{label}: unsupported source kind {source.kind!r}")


def _last_modified(client: httpx.Client, url: str, label: str) -> str | None:
    """Last-Modified by HEAD, or by the headers of a GET when the server refuses HEAD."""
    limits = DownloadLimits.from_environ()
    try:
        response = client.head(url, follow_redirects=True, timeout=limits.timeout())
        if response.status_code in (405, 501):
            with client.stream("GET", url, follow_redirects=True, timeout=limits.timeout()) as response:
                pass
    except httpx.HTTPError as error:
        raise transport_problem(label, url, error, limits) from None
    if response.status_code != 200:
        raise status_problem(label, response.request.method, url, response.status_code)
    return response.headers.get("Last-Modified")


def fetch_release(
    spec: DatasetSpec, version: str, settings: Settings, client: httpx.Client, dest_dir: Path,
    log: Callable[[str], None] = lambda m: None, limits: DownloadLimits | None = None,
) -> list[DownloadedFile]:
    """Download the files of ``version``; refuses when upstream has moved on (old versions come from archive/).

    Every file is checked to be what the source kind promises (``content_check``) before it is returned;
    a file that is not raises ``UnexpectedContent`` carrying its path, so the bytes can be kept for diagnosis.
    """
    label = f"dataset {spec.key} version {version}"
    limits = limits or DownloadLimits.from_environ()
    expected = expected_content(spec)

    def fetch(url: str) -> DownloadedFile:
        file = download(client, url, dest_dir, label=label, log=log, limits=limits)
        check_content(file.path, expected, label=label, url=url, content_type=file.content_type)
        return file

    if isinstance(spec.source, URL_SOURCES):
        past_url, _, _ = spec.source.for_version(version)
        if past_url is not None:
            return [fetch(settings.expand(past_url))]
    release = current_release(spec, settings, client, label=label)
    if release_of(version) != release.version:
        raise SourceError(
            f"{label}: upstream now publishes version {release.version}; version {version} is not in archive/ "
            "and can no longer be downloaded (add it to the registry as a per-version source URL to backfill it)"
        )
    files = [fetch(url) for url in release.urls]
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
