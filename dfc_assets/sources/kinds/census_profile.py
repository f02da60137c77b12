"""Source kind ``census_profile``: a Census of Population profile CSV zip (latin-1, repeated SYMBOL columns) by URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dfc_assets.registry.fields import EntryFields
from dfc_assets.registry.spec import CensusProfileSource, DatasetSpec
from dfc_assets.sources.kinds import url_file
from dfc_assets.sources.kinds.url_file import check_changes, current_release, fetch_release

NAME = "census_profile"
SOURCE_TYPE = CensusProfileSource
SOURCE_FIELDS = frozenset({"kind", "url", "encoding", "members", "versions", "ragged_rows"})
DEFAULT_VERSION_INTERVAL_DAYS = url_file.DEFAULT_VERSION_INTERVAL_DAYS
DEFAULT_ENCODING = "latin-1"

__all__ = ["check_changes", "current_release", "fetch_release"]

expected_content = url_file.expected_zip


def parse_source(fields: EntryFields) -> CensusProfileSource:
    return CensusProfileSource(
        **url_file.source_fields(fields), members=fields.strings("members"), ragged_rows=fields.choice("ragged_rows", ("error", "skip"), "error"),
    )


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]):
    from dfc_assets.transform.census_profile import census_profile_to_parquet

    source, _, encoding = url_file.for_version(spec, version)
    return census_profile_to_parquet(
        files[0], out_path, dataset=f"dataset {spec.key} version {version}", members=list(source.members) or None,
        encoding=encoding or DEFAULT_ENCODING, ragged_rows=source.ragged_rows, log=log,
    )


def source_config(spec: DatasetSpec, version: str) -> dict:
    config = url_file.config(spec, version)
    source = spec.source
    assert isinstance(source, CensusProfileSource)
    return {**config, "encoding": config["encoding"] or DEFAULT_ENCODING, "members": list(source.members), "ragged_rows": source.ragged_rows}
