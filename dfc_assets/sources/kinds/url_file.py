"""What every source read from one URL shares (``statcan_boundary``, ``http_file``, ``census_profile``).

Its release is the file's Last-Modified day; a change check is a conditional GET, then the
sha256 of the bytes (new validators over the same bytes never make a new version).
"""

from __future__ import annotations

import email.utils
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timezone
from pathlib import Path
from typing import Any

import httpx

from dfc_assets.registry.fields import EntryFields
from dfc_assets.registry.spec import URL_SOURCES, CensusProfileSource, DatasetSpec, HttpFileSource, StatcanBoundarySource, VectorOptions, VintageSource
from dfc_assets.settings import Settings
from dfc_assets.sources.cadence import Release
from dfc_assets.sources.content_check import ExpectedContent
from dfc_assets.sources.http_download import DownloadedFile, DownloadLimits, SourceError, status_problem, transport_problem
from dfc_assets.sources.state import ChangeCheck, ChangeContext, UpstreamRelease
from dfc_assets.versions import InvalidVersionKey, next_free_version, validate_version_key

VECTOR_OPTION_FIELDS = frozenset({"invalid_geometries", "normalise_names", "promote_to_multi"})
DEFAULT_VERSION_INTERVAL_DAYS = 0
UrlSource = StatcanBoundarySource | HttpFileSource | CensusProfileSource


def vector_options(fields: EntryFields) -> VectorOptions:
    return VectorOptions(
        invalid_geometries=fields.choice("invalid_geometries", ("repair", "reject", "keep"), "repair"),
        normalise_names=fields.boolean("normalise_names", True),
        promote_to_multi=fields.boolean("promote_to_multi", False),
    )


def vector_config(options: VectorOptions) -> dict:
    return {"invalid_geometries": options.invalid_geometries, "normalise_names": options.normalise_names, "promote_to_multi": options.promote_to_multi}


def vintages(fields: EntryFields) -> dict[str, VintageSource]:
    """``versions``: past releases upstream serves at other URLs, keyed by version key (quoted strings in the YAML)."""
    entry: Any = fields.entry.get("versions")
    if entry is None:
        return {}
    if not isinstance(entry, Mapping):
        raise fields.error("versions", "expected a mapping of version key -> {url, layer, encoding}")
    found = {}
    for version, spec in entry.items():
        try:
            validate_version_key(version, dataset=fields.dataset)
        except InvalidVersionKey as error:
            raise fields.error("versions", str(error)) from None
        if not isinstance(spec, Mapping):
            raise fields.error(f"versions.{version}", "expected a mapping with 'url'")
        inner = fields.inner(f"versions.{version}", spec)
        inner.reject_unknown({"url", "layer", "encoding"})
        found[version] = VintageSource(url=inner.string("url"), layer=inner.string("layer", required=False), encoding=inner.encoding())
    return found


def source_fields(fields: EntryFields) -> dict[str, Any]:
    """``url``, ``encoding`` and ``versions``: what the registry entry of every source by URL says."""
    return {"url": require_url(fields), "encoding": fields.encoding(), "versions": vintages(fields)}


def _by_url(spec: DatasetSpec) -> UrlSource:
    assert isinstance(spec.source, URL_SOURCES)
    return spec.source


def for_version(spec: DatasetSpec, version: str) -> tuple[Any, str | None, str | None]:
    """The dataset's source with the layer and encoding of ``version`` (a past vintage's own, where it gives them)."""
    source = _by_url(spec)
    _, layer, encoding = source.for_version(version)
    return source, layer, encoding


def expected_zip(spec: DatasetSpec) -> ExpectedContent:
    """What a source kind served as a zip archive downloads."""
    return "zip"


def config(spec: DatasetSpec, version: str) -> dict:
    source = _by_url(spec)
    url, layer, encoding = source.for_version(version)
    return {"kind": source.kind, "url": url or source.url, "layer": layer, "encoding": encoding}


def current_release(spec: DatasetSpec, settings: Settings, client: httpx.Client, label: str) -> UpstreamRelease:
    url = settings.expand(_by_url(spec).url)
    last_modified = _last_modified(client, url, label)
    if not last_modified:
        raise SourceError(f"{label}: {url} sends no Last-Modified; its release date cannot be known")
    released = email.utils.parsedate_to_datetime(last_modified).astimezone(timezone.utc)
    version = validate_version_key(released.strftime("%Y-%m-%d"), dataset=spec.key)
    return UpstreamRelease(spec.id, version, released.isoformat(timespec="seconds"), (url,))


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


def fetch_release(spec: DatasetSpec, version: str, settings: Settings, client: httpx.Client, dest_dir: Path,
                  fetch: Callable[[str], DownloadedFile], label: str) -> list[DownloadedFile]:
    from dfc_assets.sources.release import refuse_moved_on

    past_url, _, _ = _by_url(spec).for_version(version)
    if past_url is not None:
        return [fetch(settings.expand(past_url))]
    release = current_release(spec, settings, client, label)
    refuse_moved_on(label, version, release)
    return [fetch(url) for url in release.urls]


def check_changes(specs: Sequence[DatasetSpec], context: ChangeContext) -> list[ChangeCheck]:
    return context.each_in_pool(specs, check_one)


def check_one(spec: DatasetSpec, context: ChangeContext) -> ChangeCheck:
    """A conditional GET with the validators last seen, then the sha256 of the bytes."""
    state, known = context.state(spec.key), context.known_versions(spec.key)
    url = context.settings.expand(_by_url(spec).url)
    limits = DownloadLimits.from_environ()
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    with context.client.stream("GET", url, headers=headers, follow_redirects=True) as response:
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
    new_state = replace(state, etag=etag, last_modified=last_modified, size=size, sha256=sha256)
    if sha256 in (known.latest_source_sha256, state.sha256):
        return ChangeCheck(spec.key, None, new_state, "validators changed over the same bytes (sha256 unchanged): not a new version")
    if not last_modified:
        raise SourceError(f"dataset {spec.key}: {url} sends no Last-Modified; its release date cannot be known")
    released = email.utils.parsedate_to_datetime(last_modified).astimezone(timezone.utc)
    day = released.strftime("%Y-%m-%d")
    version = next_free_version(day, known.versions)
    new_state = replace(new_state, version=version, release_time=released.isoformat(timespec="seconds"))
    return ChangeCheck(spec.key, version, new_state, f"new bytes (sha256 {sha256[:12]}…) released {day}",
                       release=Release(version, released))


def require_url(fields: EntryFields) -> str:
    url = fields.string("url")
    if "\n" in url or any(ord(ch) < 32 for ch in url):
        raise fields.error("url", "contains a control character")
    return url

