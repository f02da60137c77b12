"""Is a downloaded file what the source kind promises? Checked before anything is archived.

Upstream servers answer errors with HTTP 200 surprisingly often (an HTML page, a login
form, an empty body). Cheap checks of the first and last bytes catch them before the
bytes reach ``archive/``: a zip must have its central directory, a GeoPackage the SQLite
header, Parquet ``PAR1`` at both ends, GeoJSON a JSON object, a CSV must be text.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Literal

from dfc_assets.sources.http_download import SourceError

ExpectedContent = Literal["zip", "csv", "geojson", "gpkg", "parquet"]
SNIFF_BYTES = 4096
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<!--")


class UnexpectedContent(SourceError):
    """The download succeeded but holds something else; ``path`` is the file, kept for diagnosis."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _looks_like_html(start: bytes) -> bool:
    text = start.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(_HTML_STARTS)


def content_problem(path: Path, expected: ExpectedContent, content_type: str | None = None) -> str | None:
    """What is wrong with the file, or None when it plausibly is ``expected``."""
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    with open(path, "rb") as handle:
        start = handle.read(SNIFF_BYTES)
        handle.seek(max(size - 4, 0))
        end = handle.read(4)
    served_as = f" (served as {content_type})" if content_type else ""
    if _looks_like_html(start):
        return f"it is an HTML/XML page{served_as}, not a {expected} file: upstream answered with an error or login page"
    if expected == "zip":
        if not zipfile.is_zipfile(path):
            if start[:4] == b"PK\x03\x04":
                return "it starts like a zip but has no central directory (a truncated download?)"
            return f"it is not a zip{served_as}; first bytes {start[:16]!r}"
    elif expected == "gpkg":
        if not start.startswith(b"SQLite format 3\x00"):
            return f"it is not a GeoPackage (no SQLite header){served_as}; first bytes {start[:16]!r}"
    elif expected == "parquet":
        if start[:4] != b"PAR1" or end != b"PAR1":
            return f"it is not a Parquet file (no PAR1 magic at {'the start' if start[:4] != b'PAR1' else 'the end: truncated?'}){served_as}"
    elif expected == "geojson":
        if not start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            return f"it is not GeoJSON (a JSON object){served_as}; first bytes {start[:16]!r}"
    elif expected == "csv":
        if start[:4] == b"PK\x03\x04":
            return "it is a zip, not a CSV file; use a source kind that reads zips, or the CSV's own URL"
        if b"\x00" in start:
            return f"it is binary, not CSV text{served_as}"
    return None


def check_content(path: Path, expected: ExpectedContent, *, label: str, url: str, content_type: str | None = None) -> None:
    problem = content_problem(path, expected, content_type)
    if problem is not None:
        raise UnexpectedContent(f"{label}: {url}: {problem}; nothing was archived or published", path)
