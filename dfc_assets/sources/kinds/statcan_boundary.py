"""Source kind ``statcan_boundary``: a StatCan boundary zip (shapefile, GeoPackage or GML) by URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dfc_assets.registry.fields import EntryFields
from dfc_assets.registry.spec import DatasetSpec, StatcanBoundarySource
from dfc_assets.sources.kinds import url_file
from dfc_assets.sources.kinds.url_file import check_changes, current_release, fetch_release

NAME = "statcan_boundary"
SOURCE_TYPE = StatcanBoundarySource
SOURCE_FIELDS = frozenset({"kind", "url", "vintage", "layer", "encoding", "versions", *url_file.VECTOR_OPTION_FIELDS})
DEFAULT_VERSION_INTERVAL_DAYS = url_file.DEFAULT_VERSION_INTERVAL_DAYS

__all__ = ["check_changes", "current_release", "fetch_release"]

expected_content = url_file.expected_zip


def parse_source(fields: EntryFields) -> StatcanBoundarySource:
    vintage = fields.entry.get("vintage")
    if vintage is not None and not isinstance(vintage, str):
        raise fields.error("vintage", f"expected a quoted string such as \"2021\", got {vintage!r}")
    return StatcanBoundarySource(
        **url_file.source_fields(fields), vintage=vintage, layer=fields.string("layer", required=False), vector=url_file.vector_options(fields),
    )


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]):
    from dfc_assets.transform.vector import vector_zip_to_geoparquet

    source, layer, encoding = url_file.for_version(spec, version)
    return vector_zip_to_geoparquet(files[0], out_path, layer=layer, encoding=encoding, log=log, **url_file.vector_config(source.vector))


def source_config(spec: DatasetSpec, version: str) -> dict:
    source = spec.source
    assert isinstance(source, StatcanBoundarySource)
    return {**url_file.config(spec, version), **url_file.vector_config(source.vector)}
