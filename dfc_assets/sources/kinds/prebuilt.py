"""Source kind ``prebuilt``: a file another pipeline made (PMTiles, GeoParquet, Parquet, FlatGeobuf, COG), by URL.

Published as it is (the same bytes, the same sha256) after a format check (``sources.prebuilt_checks``) made
when it is downloaded: a truncated, damaged or mislabelled file is refused at ``raw``, before anything is
archived. Releases and change checks are those of every file by URL (``url_file``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from dfc_assets.registry.fields import EntryFields
from dfc_assets.registry.spec import DatasetSpec, PrebuiltSource
from dfc_assets.settings import Settings
from dfc_assets.sources.content_check import UnexpectedContent
from dfc_assets.sources.http_download import DownloadedFile
from dfc_assets.sources.kinds import url_file
from dfc_assets.sources.kinds.url_file import check_changes, current_release
from dfc_assets.sources.prebuilt_checks import EXTENSION, PREBUILT_FORMATS, PrebuiltFormatError, check_prebuilt
from dfc_assets.storage.digests import digest_file
from dfc_assets.transform.result import TransformResult

NAME = "prebuilt"
PUBLISHED_AS_IS = True  # the archived file is the published one (publication.raw hashes it for the torrents while archiving)
SOURCE_TYPE = PrebuiltSource
SOURCE_FIELDS = frozenset({"kind", "url", "format", "versions"})
DEFAULT_VERSION_INTERVAL_DAYS = url_file.DEFAULT_VERSION_INTERVAL_DAYS
FORMAT_SUFFIXES = {".pmtiles": "pmtiles", ".fgb": "flatgeobuf", ".tif": "cog", ".tiff": "cog", ".geoparquet": "geoparquet"}

__all__ = ["check_changes", "current_release", "fetch_release"]


def parse_source(fields: EntryFields) -> PrebuiltSource:
    url = url_file.require_url(fields)
    if fields.entry.get("format") is not None:
        file_format = fields.choice("format", PREBUILT_FORMATS, "pmtiles")
    else:
        name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
        file_format = next((f for suffix, f in FORMAT_SUFFIXES.items() if name.endswith(suffix)), None)
        if file_format is None:
            raise fields.error("format", f"is required: the format cannot be told from the file name {name!r}; expected one of {list(PREBUILT_FORMATS)}")
    return PrebuiltSource(url=url, format=file_format, versions=url_file.vintages(fields))  # type: ignore[arg-type]


def expected_content(spec: DatasetSpec):
    return "parquet" if spec.source.format in ("parquet", "geoparquet") else "prebuilt"  # type: ignore[union-attr]


def fetch_release(spec: DatasetSpec, version: str, settings: Settings, client, dest_dir: Path,
                  fetch: Callable[[str], DownloadedFile], label: str) -> list[DownloadedFile]:
    def checked(url: str) -> DownloadedFile:
        file = fetch(url)
        try:
            check_prebuilt(file.path, spec.source.format)  # type: ignore[union-attr]
        except PrebuiltFormatError as error:
            raise UnexpectedContent(f"{label}: {url}: not a sound {spec.source.format} file: {error}; "  # type: ignore[union-attr]
                                    "nothing was archived or published", file.path) from None
        return file

    return url_file.fetch_release(spec, version, settings, client, dest_dir, checked, label)


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]) -> TransformResult:
    """No transform: the archived file itself, under the version's file name with the format's extension."""
    file_format = spec.source.format  # type: ignore[union-attr]
    facts = check_prebuilt(files[0], file_format)
    target = out_path.with_suffix("." + EXTENSION[file_format])
    target.unlink(missing_ok=True)
    try:
        os.link(files[0], target)
    except OSError:
        shutil.copyfile(files[0], target)
    log(f"dataset {spec.key} version {version}: prebuilt {file_format} file checked ({facts.details or facts.rows}); published as it is")
    return TransformResult(
        path=target, rows=facts.rows or 0, size=target.stat().st_size, sha256=digest_file(target).sha256, columns=facts.schema,
        bbox=facts.bbox, footprint=facts.footprint, geometry_types=facts.geometry_types,
    )


def source_config(spec: DatasetSpec, version: str) -> dict:
    return {**url_file.config(spec, version), "format": spec.source.format, "layer": None, "encoding": None}  # type: ignore[union-attr]
