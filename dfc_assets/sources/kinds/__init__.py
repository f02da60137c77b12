"""Source kinds: one module each, all answering the same protocol (``SourceKind``).

Adding a kind is one module here plus its entry in ``KINDS``: registry parsing, releases,
fetching, change detection, the transform entry point and the configuration that shaped a
version all live in it. Callers dispatch through ``source_kind(spec)``; nothing else switches
on the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dfc_assets.sources.kinds import census_profile, http_file, statcan_boundary, statcan_table

if TYPE_CHECKING:
    import httpx

    from dfc_assets.registry.fields import EntryFields
    from dfc_assets.registry.spec import DatasetSpec, SourceSpec
    from dfc_assets.settings import Settings
    from dfc_assets.sources.content_check import ExpectedContent
    from dfc_assets.sources.http_download import DownloadedFile
    from dfc_assets.sources.state import ChangeCheck, ChangeContext, UpstreamRelease
    from dfc_assets.transform.result import TransformResult


class SourceKind(Protocol):
    NAME: str                            # source.kind in the registry
    SOURCE_TYPE: type                    # its registry.spec dataclass
    SOURCE_FIELDS: frozenset[str]        # the fields its `source` mapping may hold
    DEFAULT_VERSION_INTERVAL_DAYS: int   # min_version_interval when the registry gives none

    def parse_source(self, fields: EntryFields) -> SourceSpec: ...

    def expected_content(self, spec: DatasetSpec) -> ExpectedContent: ...

    def current_release(self, spec: DatasetSpec, settings: Settings, client: httpx.Client, label: str) -> UpstreamRelease: ...

    def fetch_release(self, spec: DatasetSpec, version: str, settings: Settings, client: httpx.Client, dest_dir: Path,
                      fetch: Callable[[str], DownloadedFile], label: str) -> list[DownloadedFile]: ...

    def check_changes(self, specs: Sequence[DatasetSpec], context: ChangeContext) -> list[ChangeCheck]: ...

    def transform(self, spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]) -> TransformResult: ...

    def source_config(self, spec: DatasetSpec, version: str) -> dict: ...


KINDS: dict[str, SourceKind] = {kind.NAME: kind for kind in (statcan_table, statcan_boundary, http_file, census_profile)}  # type: ignore[misc]


def source_kind_named(name: str) -> SourceKind | None:
    return KINDS.get(name)


def source_kind(spec: DatasetSpec | SourceSpec) -> SourceKind:
    source = getattr(spec, "source", spec)
    kind = KINDS.get(source.kind)
    if kind is None:
        raise ValueError(f"unknown source kind {source.kind!r}; expected one of {sorted(KINDS)}")
    return kind


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]) -> TransformResult:
    """Run the dataset's transform on the archived files of ``version`` with the registry's options."""
    return source_kind(spec).transform(spec, version, files, out_path, log)


def source_config(spec: DatasetSpec, version: str) -> dict:
    """The source configuration that shaped this version (not the whole registry entry)."""
    return source_kind(spec).source_config(spec, version)
