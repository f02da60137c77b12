"""DuckDB recipes over the catalog file, on a local path or an http(s) URL.

Each recipe is plain SQL over a view named `catalog` (the text is in the constants below, so the README and users
can run it as is). Rows are in catalog order: dataset, then release order of the version. Remote files are read
with HTTP Range requests through fsspec, so no DuckDB extension (and no download of one) is needed; with the
`httpfs` extension loaded, the same SQL works on the URL directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import duckdb
from fsspec.implementations.http import HTTPFileSystem

RANGE_BLOCK_BYTES = 64 * 1024  # unused with cache_type="none": each DuckDB read is one exact Range GET

ALL_VERSIONS = """
SELECT id, version, "sci:doi" AS doi, deprecated, published, assets.data.href AS zenodo_url
FROM catalog WHERE collection = $dataset
ORDER BY file_row_number
"""

LATEST_VERSION = """
SELECT id, version, "sci:doi" AS doi, "dfc:concept_doi" AS concept_doi, assets.data.href AS zenodo_url
FROM catalog WHERE collection = $dataset AND NOT deprecated
"""

LATEST_FOR_DOI = """
SELECT asked.id AS asked_id, latest.id AS latest_id, latest.version AS latest_version, latest."sci:doi" AS latest_doi,
       asked.id = latest.id AS is_latest
FROM catalog AS asked JOIN catalog AS latest ON latest.collection = asked.collection AND NOT latest.deprecated
WHERE asked."sci:doi" = $doi
"""

INTERSECTING_BBOX = """
SELECT id, collection, version, "sci:doi" AS doi, deprecated, [bbox.xmin, bbox.ymin, bbox.xmax, bbox.ymax] AS bbox
FROM catalog
WHERE bbox.xmin <= $east AND bbox.xmax >= $west AND bbox.ymin <= $north AND bbox.ymax >= $south
  AND (NOT $latest_only OR NOT deprecated)
ORDER BY file_row_number
"""

DOWNLOAD_LINKS = """
SELECT id, version, "sci:doi" AS doi,
       assets.data.href AS zenodo_url,
       assets.data.alternate."object-storage".href AS release_url,
       list_filter([assets.data.alternate."mirror-1".href, assets.data.alternate."mirror-2".href,
                    assets.data.alternate."mirror-3".href, assets.data.alternate."mirror-4".href,
                    assets.data.alternate."mirror-5".href], lambda u: u IS NOT NULL) AS mirror_urls,
       assets.data.alternate.magnet.href AS magnet,
       assets.torrent.href AS torrent_url,
       assets.data."file:size" AS size,
       assets.data."file:checksum" AS checksum_multihash
FROM catalog WHERE "sci:doi" = $key OR id = $key
"""

FOOTER = """
SELECT decode(value) AS footer FROM parquet_kv_metadata($source) WHERE decode(key) = 'stac-geoparquet'
"""


class _RangeHTTPFileSystem(HTTPFileSystem):
    """fsspec's HTTP filesystem, made to touch a remote catalog only with HEAD and ranged GETs.

    fsspec answers `exists`/`isdir` with a full GET (and parses the body for links); DuckDB asks both before
    reading, which would download the whole catalog. A URL here is always one file. DuckDB also needs `modified()`.
    """

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        try:
            await self._info(path, **kwargs)
            return True
        except FileNotFoundError:
            return False

    async def _isdir(self, path: str) -> bool:
        return False

    def modified(self, path: str) -> datetime:
        stamp = self.info(path).get("Last-Modified")
        return parsedate_to_datetime(stamp) if stamp else datetime.fromtimestamp(0, timezone.utc)


def _is_url(source: str | Path) -> bool:
    return str(source).startswith(("http://", "https://"))


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def open_catalog(source: str | Path, *, view: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh DuckDB connection with a `catalog` view over the file (with its `file_row_number`)."""
    con = duckdb.connect()
    try:
        if _is_url(source):
            con.register_filesystem(_RangeHTTPFileSystem(block_size=RANGE_BLOCK_BYTES, cache_type="none"))
        elif not Path(source).is_file():
            raise FileNotFoundError(f"catalog file {source} does not exist; build it first (catalog/stac_geoparquet)")
        if view:
            con.execute(f"CREATE VIEW catalog AS SELECT * FROM read_parquet({_sql_string(str(source))}, file_row_number = true)")
        yield con
    finally:
        con.close()


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def run(source: str | Path, sql: str, **params: Any) -> list[dict]:
    with open_catalog(source) as con:
        return _records(con, sql, params)


def all_versions(source: str | Path, dataset_id: str) -> list[dict]:
    return run(source, ALL_VERSIONS, dataset=dataset_id)


def latest_version(source: str | Path, dataset_id: str) -> dict | None:
    rows = run(source, LATEST_VERSION, dataset=dataset_id)
    return rows[0] if rows else None


def latest_doi(source: str | Path, dataset_id: str) -> str | None:
    latest = latest_version(source, dataset_id)
    return latest["doi"] if latest else None


def latest_for_doi(source: str | Path, doi: str) -> dict | None:
    """Given the DOI of any version: the latest version of the same dataset and whether the DOI is it."""
    rows = run(source, LATEST_FOR_DOI, doi=doi)
    return rows[0] if rows else None


def intersecting_bbox(source: str | Path, bbox: tuple[float, float, float, float], *, latest_only: bool = False) -> list[dict]:
    west, south, east, north = bbox
    return run(source, INTERSECTING_BBOX, west=west, south=south, east=east, north=north, latest_only=latest_only)


def download_links(source: str | Path, doi_or_id: str) -> dict | None:
    rows = run(source, DOWNLOAD_LINKS, key=doi_or_id)
    return rows[0] if rows else None


def footer(source: str | Path) -> dict:
    """The `stac-geoparquet` footer (spec version and collections), read by DuckDB without reading any row."""
    with open_catalog(source, view=False) as con:
        rows = _records(con, FOOTER, {"source": str(source)})
    if not rows:
        raise ValueError(f"{source}: no 'stac-geoparquet' footer key; is this a STAC GeoParquet file?")
    return json.loads(rows[0]["footer"])
