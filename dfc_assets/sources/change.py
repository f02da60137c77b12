"""Cheap upstream change detection, one dataset at a time, many datasets per sensor tick.

Validators (WDS release time, ETag, Last-Modified, size) say when to look closer; the content
sha256 has the last word, so new validators over the same bytes never make a new version.
Every source read from a URL (``statcan_boundary``, ``http_file``, ``census_profile``) is
checked the same way: a conditional GET, then the sha256 of the bytes.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx

from dfc_assets.registry import URL_SOURCES, DatasetSpec, StatcanTableSource
from dfc_assets.settings import Settings
from dfc_assets.sources.http_download import DownloadLimits, SourceError, status_problem
from dfc_assets.sources.statcan_wds import WdsClient
from dfc_assets.versions import next_free_version, version_from_timestamp

EASTERN = ZoneInfo("America/Toronto")


@dataclass(frozen=True)
class SourceState:
    """What we last saw of one dataset's upstream (kept in the sensor cursor)."""

    version: str | None = None
    release_time: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    size: int | None = None
    sha256: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "SourceState":
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__}) if data else cls()

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ChangeCheck:
    dataset: str                  # the dataset key
    new_version: str | None       # a version to publish, or None
    state: SourceState
    note: str
    error: str | None = None


@dataclass(frozen=True)
class KnownVersions:
    """What is already published or planned for a dataset: its version keys and the latest upstream sha256."""

    versions: tuple[str, ...] = ()
    latest_source_sha256: str | None = None


def wds_days_to_ask(now: datetime) -> list[str]:
    """Eastern calendar days whose releases may be unseen: today and yesterday (a tick may straddle midnight)."""
    local = now.astimezone(EASTERN)
    return [(local - timedelta(days=1)).strftime("%Y-%m-%d"), local.strftime("%Y-%m-%d")]


def check_table(spec: DatasetSpec, settings: Settings, client: httpx.Client, state: SourceState, known: KnownVersions,
                changed_today: Mapping[str, str] | None) -> ChangeCheck:
    source = spec.source
    assert isinstance(source, StatcanTableSource)
    if changed_today is not None and source.product_id not in changed_today and known.versions:
        return ChangeCheck(spec.key, None, state, "not in WDS getChangedCubeList")
    metadata = WdsClient(client, settings.wds_base_url).cube_metadata(source.product_id)
    release_time = metadata.get("releaseTime") or ""
    version = version_from_timestamp(release_time)
    new_state = replace(state, release_time=release_time, version=version)
    if version in known.versions:
        return ChangeCheck(spec.key, None, new_state, f"release {release_time} is version {version}, already known")
    return ChangeCheck(spec.key, version, new_state, f"WDS releaseTime {release_time} (Eastern) is new")


def check_http_file(spec: DatasetSpec, settings: Settings, client: httpx.Client, state: SourceState, known: KnownVersions) -> ChangeCheck:
    source = spec.source
    assert isinstance(source, URL_SOURCES)
    url = settings.expand(source.url)
    limits = DownloadLimits.from_environ()
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
        if response.status_code == 304 and known.versions:
            return ChangeCheck(spec.key, None, state, "304 Not Modified")
        if response.status_code != 200:
            raise status_problem(f"dataset {spec.key}", "GET", url, response.status_code)
        etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        if known.versions and state.sha256 and etag == state.etag and last_modified == state.last_modified:
            return ChangeCheck(spec.key, None, state, "validators unchanged")
        digest, size = hashlib.sha256(), 0
        for chunk in response.iter_bytes(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if size > limits.max_bytes:
                raise SourceError(f"dataset {spec.key}: {url} is larger than the download limit of {limits.max_bytes} bytes")
    sha256 = digest.hexdigest()
    new_state = SourceState(etag=etag, last_modified=last_modified, size=size, sha256=sha256, version=state.version)
    if sha256 in (known.latest_source_sha256, state.sha256):
        return ChangeCheck(spec.key, None, new_state, "validators changed over the same bytes (sha256 unchanged): not a new version")
    if not last_modified:
        raise SourceError(f"dataset {spec.key}: {url} sends no Last-Modified; its release date cannot be known")
    day = email.utils.parsedate_to_datetime(last_modified).astimezone(timezone.utc).strftime("%Y-%m-%d")
    version = next_free_version(day, known.versions)
    return ChangeCheck(spec.key, version, replace(new_state, version=version), f"new bytes (sha256 {sha256[:12]}…) released {day}")


def check_dataset(spec: DatasetSpec, settings: Settings, client: httpx.Client, state: SourceState, known: KnownVersions,
                  changed_today: Mapping[str, str] | None) -> ChangeCheck:
    try:
        if isinstance(spec.source, StatcanTableSource):
            return check_table(spec, settings, client, state, known, changed_today)
        if isinstance(spec.source, URL_SOURCES):
            return check_http_file(spec, settings, client, state, known)
        raise SourceError(f"dataset {spec.key}: no change detection for source kind {spec.source.kind!r}")
    except (SourceError, httpx.HTTPError, ValueError) as error:
        return ChangeCheck(spec.key, None, state, "check failed", error=f"{type(error).__name__}: {error}")


def check_all(
    specs: Sequence[DatasetSpec], settings: Settings, *, states: Mapping[str, SourceState], known: Mapping[str, KnownVersions],
    now: datetime | None = None, max_workers: int = 8, source_timeout: float = 15.0, deadline_seconds: float = 45.0,
    client_factory: Callable[[float], httpx.Client] | None = None,
) -> list[ChangeCheck]:
    """Check every dataset with bounded concurrency; a slow or failing source is reported, never blocks the others."""
    make_client = client_factory or (lambda timeout: httpx.Client(timeout=timeout))
    started = time.monotonic()
    with make_client(source_timeout) as client:
        changed_today: dict[str, str] | None = None
        if any(isinstance(spec.source, StatcanTableSource) for spec in specs):
            try:
                wds = WdsClient(client, settings.wds_base_url)
                changed_today = {}
                for day in wds_days_to_ask(now or datetime.now(timezone.utc)):
                    changed_today.update(wds.changed_cubes(day))
            except SourceError:
                changed_today = None  # fall back to getCubeMetadata per table
        results: dict[str, ChangeCheck] = {}
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="dfc-source-check") as pool:
            futures = {
                pool.submit(check_dataset, spec, settings, client, states.get(spec.key, SourceState()), known.get(spec.key, KnownVersions()), changed_today): spec
                for spec in specs
            }
            try:
                for future in as_completed(futures, timeout=max(deadline_seconds - (time.monotonic() - started), 1)):
                    check = future.result()
                    results[check.dataset] = check
            except TimeoutError:
                pass
            for future, spec in futures.items():
                if spec.key not in results:
                    future.cancel()
                    results[spec.key] = ChangeCheck(spec.key, None, states.get(spec.key, SourceState()), "check failed",
                                                    error=f"no answer within the tick's {deadline_seconds:g} s budget; retried next tick")
    return [results[spec.key] for spec in specs]
