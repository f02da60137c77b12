"""What upstream publishes now, as a version key, and fetching that release's files (per source kind)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from dfc_assets.registry import DatasetSpec
from dfc_assets.settings import Settings
from dfc_assets.sources.content_check import ExpectedContent, check_content
from dfc_assets.sources.http_download import DownloadedFile, DownloadLimits, SourceError, download
from dfc_assets.sources.kinds import source_kind
from dfc_assets.sources.kinds.statcan_table import CUBE_METADATA_SUFFIX
from dfc_assets.sources.state import UpstreamRelease
from dfc_assets.versions import release_of

__all__ = ["CUBE_METADATA_SUFFIX", "UpstreamRelease", "current_release", "expected_content", "fetch_release"]


def expected_content(spec: DatasetSpec) -> ExpectedContent:
    """What the main upstream file of the dataset must be."""
    return source_kind(spec).expected_content(spec)


def current_release(spec: DatasetSpec, settings: Settings, client: httpx.Client, *, label: str | None = None) -> UpstreamRelease:
    """The release upstream serves right now and the version key it becomes."""
    return source_kind(spec).current_release(spec, settings, client, label or f"dataset {spec.key}")


def refuse_moved_on(label: str, version: str, release: UpstreamRelease) -> None:
    if release_of(version) != release.version:
        raise SourceError(
            f"{label}: upstream now publishes version {release.version}; version {version} is not in archive/ "
            "and can no longer be downloaded (add it to the registry as a per-version source URL to backfill it)"
        )


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

    return source_kind(spec).fetch_release(spec, version, settings, client, dest_dir, fetch, label)
