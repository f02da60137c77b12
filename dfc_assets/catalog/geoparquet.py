"""Write and read the STAC GeoParquet catalog file (STAC GeoParquet v1.1 on GeoParquet 1.1).

The file is written from rows in catalog order (all items, or the previous file's rows merged with the rows of the
datasets that changed, `catalog.merge`): version links applied, rows sorted by collection then version
order, the pinned schema, zstd, row groups sized so a one-dataset lookup over HTTP reads few bytes, the
collections in the `stac-geoparquet` footer key, written to a temporary file and moved into place atomically.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from dfc_assets.catalog.rows import items_to_rows, row_to_item
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA
from dfc_assets.catalog.version_links import link_versions

GEOPARQUET_VERSION = "1.1.0"
GEOMETRY_TYPE_NAMES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
                       7: "GeometryCollection"}
STAC_GEOPARQUET_FOOTER_KEY = "stac-geoparquet"
STAC_GEOPARQUET_METADATA_VERSION = "1.0.0"
"""What the spec's metadata JSON schema accepts (`const: "1.0.0"`) and what stac-geoparquet and rustac write,
even with the 1.1-era `collections` key."""
FOOTER_COLLECTIONS_BUDGET = 128 * 1024
"""Every remote query downloads the whole footer; beyond this many bytes of collection JSON the collections are
left out of it (they are published as STAC JSON anyway). Reference §0.3: 25,000 collections made every query read 53 MB."""
FOOTER_BYTES_PER_ROW_GROUP = 7_400
"""Measured: Parquet column-chunk metadata of one row group of the pinned schema (72 leaf columns, statistics only
on STATISTICS_COLUMNS). Every remote query downloads it once per row group, in the footer."""
LOOKUP_BYTES_PER_ROW = 10
"""Measured: compressed bytes per row of the columns a one-dataset lookup reads (id, version, DOI, Zenodo URL, ...)."""
MIN_ROW_GROUP_ROWS = 2_000
STATISTICS_COLUMNS = ["collection", "id", "version", "sci:doi", "deprecated", "datetime", "start_datetime", "end_datetime",
                      "published", "bbox.xmin", "bbox.ymin", "bbox.xmax", "bbox.ymax"]
"""Min/max only where queries filter: statistics on every long string column would bloat the footer."""
ZSTD_LEVEL = 3
"""zstd's default: at 100,000 rows level 9 was 4x slower to write and no smaller."""


def row_group_rows(total_rows: int) -> int:
    """Rows per row group that minimise the bytes of a one-dataset lookup over HTTP.

    Such a lookup reads the whole footer (FOOTER_BYTES_PER_ROW_GROUP x total/R) plus the projected columns of the
    row group holding the dataset (LOOKUP_BYTES_PER_ROW x R); the sum is smallest at
    R = sqrt(total x footer bytes / row bytes): 9,000 rows for a 100,000-row catalog (about 175 KiB per lookup).
    """
    best = math.sqrt(total_rows * FOOTER_BYTES_PER_ROW_GROUP / LOOKUP_BYTES_PER_ROW)
    return max(MIN_ROW_GROUP_ROWS, math.ceil(best / 1000) * 1000)


def row_groups(collections: Sequence[str], max_rows: int) -> list[tuple[int, int]]:
    """(offset, length) of row groups of at most `max_rows` rows, cut only between datasets (rows are sorted by
    collection), so a dataset's lookup reads one row group. A dataset longer than `max_rows` is cut into full groups."""
    groups: list[tuple[int, int]] = []
    start = 0
    for run_start, run in _runs(collections):
        run_end = run_start + run
        if run > max_rows:
            if run_start > start:
                groups.append((start, run_start - start))
            groups.extend((offset, min(max_rows, run_end - offset)) for offset in range(run_start, run_end, max_rows))
            start = run_end
        elif run_end - start > max_rows:
            groups.append((start, run_start - start))
            start = run_start
    if len(collections) > start:
        groups.append((start, len(collections) - start))
    return groups


def _runs(values: Sequence[str]) -> list[tuple[int, int]]:
    """(offset, length) of each run of equal consecutive values."""
    runs: list[tuple[int, int]] = []
    offset = 0
    for _, run in itertools.groupby(values):
        length = sum(1 for _ in run)
        runs.append((offset, length))
        offset += length
    return runs


@dataclass(frozen=True)
class CatalogFile:
    path: Path | None  # None when an update found nothing to change and wrote no file
    rows: int
    size: int
    sha256: str


def _geo_metadata(table: pa.Table) -> dict:
    types = sorted(set(shapely.get_type_id(shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))).tolist()))
    types = [GEOMETRY_TYPE_NAMES[t] for t in types]
    bbox = table.column("bbox").combine_chunks()
    file_bbox = [
        float(pa.compute.min(bbox.field("xmin")).as_py()), float(pa.compute.min(bbox.field("ymin")).as_py()),
        float(pa.compute.max(bbox.field("xmax")).as_py()), float(pa.compute.max(bbox.field("ymax")).as_py()),
    ] if len(table) else []
    column = {
        "encoding": "WKB",
        "geometry_types": types,
        # No "crs" key: GeoParquet reads that as OGC:CRS84 (lon/lat WGS 84), which STAC geometries are.
        "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
    }
    if file_bbox:
        column["bbox"] = file_bbox
    return {"version": GEOPARQUET_VERSION, "primary_column": "geometry", "columns": {"geometry": column}}


def _footer(collection_ids: set[str], collections: Sequence[dict]) -> dict:
    by_id: dict[str, dict] = {}
    for collection in collections:
        if collection["id"] in by_id:
            raise ValueError(f"collection {collection['id']!r} given twice to write_catalog")
        by_id[collection["id"]] = collection
    missing = sorted(collection_ids - set(by_id))
    if missing:
        raise ValueError(f"items refer to collection(s) {missing} that were not given to write_catalog; "
                         "pass one collection per dataset")
    return {"version": STAC_GEOPARQUET_METADATA_VERSION, "collections": dict(sorted(by_id.items()))}


def _footer_bytes(collection_ids: set[str], collections: Sequence[dict]) -> bytes:
    footer = _footer(collection_ids, collections)
    encoded = json.dumps(footer, separators=(",", ":"), ensure_ascii=False).encode()
    if len(encoded) > FOOTER_COLLECTIONS_BUDGET:
        footer["collections"] = {}
        encoded = json.dumps(footer, separators=(",", ":")).encode()
    return encoded


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Converting items to rows and back allocates millions of short-lived, acyclic dicts and lists, for which
    Python's cyclic collector rescans the whole heap again and again (40% of a 100,000-item rebuild); reference
    counting frees them anyway. Process-wide, so it is restored only if it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def items_to_table(items: Sequence[dict]) -> pa.Table:
    """Rows in catalog order with version links applied, in the pinned schema."""
    with cyclic_gc_paused():
        return pa.Table.from_pylist(items_to_rows(link_versions(items)), schema=CATALOG_SCHEMA)


def write_catalog(items: Sequence[dict], collections: Sequence[dict], out_path: Path) -> CatalogFile:
    """Rebuild the whole catalog file from all items; collections go into the footer while they fit its budget."""
    return write_catalog_table(items_to_table(items), collections, out_path)


def write_catalog_table(table: pa.Table, collections: Sequence[dict], out_path: Path) -> CatalogFile:
    """Write rows already in catalog order (see `items_to_table`, `catalog.merge`), atomically."""
    out_path = Path(out_path)
    if not table.schema.equals(CATALOG_SCHEMA):
        raise ValueError("catalog table is not in the pinned CATALOG_SCHEMA")
    collection_column = table.column("collection")
    metadata = {
        b"geo": json.dumps(_geo_metadata(table), separators=(",", ":")).encode(),
        STAC_GEOPARQUET_FOOTER_KEY.encode(): _footer_bytes(set(pa.compute.unique(collection_column).to_pylist()), collections),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # Key-value metadata added to the writer, not the schema: pyarrow would copy schema metadata into
        # ARROW:schema too and double the footer every remote reader downloads. No ARROW:schema at all: the
        # Parquet schema alone reads back as CATALOG_SCHEMA (UTC timestamps, required fields), 6 KiB less per query.
        with pq.ParquetWriter(tmp, CATALOG_SCHEMA, compression="zstd", compression_level=ZSTD_LEVEL,
                              write_statistics=STATISTICS_COLUMNS, store_schema=False) as writer:
            max_rows = row_group_rows(len(table))
            for offset, length in row_groups(collection_column.to_pylist(), max_rows):
                writer.write_table(table.slice(offset, length), row_group_size=max_rows)
            writer.add_key_value_metadata(metadata)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        size = tmp.stat().st_size
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return CatalogFile(path=out_path, rows=len(table), size=size, sha256=digest)


def _parquet_source(path_or_url: str | Path) -> pa.NativeFile | str:
    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        response = httpx.get(text, follow_redirects=True, timeout=60)
        if response.status_code != 200:
            raise OSError(f"catalog {text}: HTTP {response.status_code}; check the URL or that the catalog was published")
        return pa.BufferReader(response.content)
    return text


def read_catalog_table(path_or_url: str | Path) -> pa.Table:
    return pq.read_table(_parquet_source(path_or_url))


def table_to_items(table: pa.Table) -> list[dict]:
    with cyclic_gc_paused():
        return [row_to_item(row, table.schema) for row in table.to_pylist()]


def read_catalog(path_or_url: str | Path) -> list[dict]:
    """The catalog's items as STAC dicts with exactly the keys they were written with."""
    return table_to_items(read_catalog_table(path_or_url))


def read_footer(path_or_url: str | Path) -> dict:
    """The `stac-geoparquet` footer value: {"version": ..., "collections": {id: collection}}."""
    source = _parquet_source(path_or_url)
    metadata = pq.read_metadata(source).metadata or {}
    raw = metadata.get(STAC_GEOPARQUET_FOOTER_KEY.encode())
    if raw is None:
        raise ValueError(f"{path_or_url}: no {STAC_GEOPARQUET_FOOTER_KEY!r} footer key; is this a STAC GeoParquet file?")
    return json.loads(raw)


def read_geo_metadata(path_or_url: str | Path) -> dict:
    return json.loads((pq.read_metadata(_parquet_source(path_or_url)).metadata or {})[b"geo"])
