"""Source kind ``http_file``: one CSV, GeoJSON, GeoPackage, Parquet or GeoParquet file by URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from dfc_assets.registry.fields import EntryFields
from dfc_assets.registry.spec import VECTOR_FORMATS, DatasetSpec, HttpFileSource
from dfc_assets.sources.content_check import ExpectedContent
from dfc_assets.sources.kinds import url_file
from dfc_assets.sources.kinds.url_file import check_changes, current_release, fetch_release

NAME = "http_file"
SOURCE_TYPE = HttpFileSource
SOURCE_FIELDS = frozenset({"kind", "url", "format", "layer", "encoding", "versions", "ragged_rows", *url_file.VECTOR_OPTION_FIELDS})
DEFAULT_VERSION_INTERVAL_DAYS = url_file.DEFAULT_VERSION_INTERVAL_DAYS
# File name endings -> format, when `format` is not given.
FORMAT_SUFFIXES = {
    ".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".geoparquet": "geoparquet", ".parquet": "parquet",
}
FILE_FORMATS = ("csv", "geojson", "gpkg", "parquet", "geoparquet")

__all__ = ["check_changes", "current_release", "fetch_release"]


def parse_source(fields: EntryFields) -> HttpFileSource:
    common = url_file.source_fields(fields)
    url = common["url"]
    entry = fields.entry
    file_format = _file_format(fields, url)
    if file_format not in VECTOR_FORMATS and (given := sorted(url_file.VECTOR_OPTION_FIELDS & set(entry))):
        raise fields.error(given[0], f"applies to vector formats {list(VECTOR_FORMATS)} only; this file's format is {file_format!r}")
    if file_format != "csv" and "ragged_rows" in entry:
        raise fields.error("ragged_rows", f"applies to format 'csv' only; this file's format is {file_format!r}")
    if file_format in ("parquet", "geoparquet") and "encoding" in entry:
        raise fields.error("encoding", "does not apply to Parquet (its text is always UTF-8)")
    return HttpFileSource(
        **common, format=file_format, layer=fields.string("layer", required=False), vector=url_file.vector_options(fields),
        ragged_rows=fields.choice("ragged_rows", ("error", "skip"), "error"),
    )


def _file_format(fields: EntryFields, url: str) -> str:
    if fields.entry.get("format") is not None:
        return fields.choice("format", FILE_FORMATS, "csv")
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    for suffix, file_format in FORMAT_SUFFIXES.items():
        if name.endswith(suffix):
            return file_format
    raise fields.error("format", f"is required: the format cannot be told from the file name {name!r}; expected one of {list(FILE_FORMATS)}")


def _source(spec: DatasetSpec) -> HttpFileSource:
    assert isinstance(spec.source, HttpFileSource)
    return spec.source


def expected_content(spec: DatasetSpec) -> ExpectedContent:
    file_format = _source(spec).format
    return "parquet" if file_format == "geoparquet" else file_format


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]):
    from dfc_assets.transform.tabular_file import csv_file_to_parquet, is_geoparquet, parquet_file_to_parquet
    from dfc_assets.transform.vector_file import vector_file_to_geoparquet

    source = _source(spec)
    _, layer, encoding = source.for_version(version)
    path = files[0]
    if source.format == "csv":
        return csv_file_to_parquet(path, out_path, encoding=encoding or "utf-8", ragged_rows=source.ragged_rows, log=log)
    if source.format == "parquet" and not is_geoparquet(path):
        return parquet_file_to_parquet(path, out_path, log=log)
    file_format = "geoparquet" if source.format == "parquet" else source.format
    return vector_file_to_geoparquet(
        path, out_path, file_format=file_format, layer=layer, encoding=encoding, log=log, **url_file.vector_config(source.vector),
    )


def source_config(spec: DatasetSpec, version: str) -> dict:
    config = url_file.config(spec, version)
    source = _source(spec)
    config["format"] = source.format
    if source.format == "csv":
        config.update({"encoding": config["encoding"] or "utf-8", "ragged_rows": source.ragged_rows})
    else:
        config.update(url_file.vector_config(source.vector))
    return config
