"""The catalog's pinned Arrow schema: one row per dataset version, STAC GeoParquet v1.1 layout.

Item properties are top-level columns, `bbox` is a GeoParquet 1.1 covering struct, geometry is WKB, times are
native UTC timestamps. Asset keys and alternate names are struct fields, so they are part of this schema: an
item with a field not listed here is refused at write time instead of silently widening or dropping columns.
Change this file (and its test) deliberately when the item model grows.
"""

from __future__ import annotations

import pyarrow as pa

from dfc_assets.catalog.item import MAX_MIRRORS

STRING = pa.string()
UTC = pa.timestamp("us", tz="UTC")
STRINGS = pa.list_(STRING)

LINK = pa.struct([("rel", STRING), ("href", STRING), ("type", STRING), ("title", STRING)])
ALTERNATE = pa.struct([("href", STRING), ("alternate:name", STRING)])
ALTERNATES = pa.struct(
    [("object-storage", ALTERNATE)] + [(f"mirror-{i}", ALTERNATE) for i in range(1, MAX_MIRRORS + 1)] + [("magnet", ALTERNATE)]
)
DATA_ASSET = pa.struct([
    ("href", STRING), ("type", STRING), ("title", STRING), ("roles", STRINGS),
    ("file:size", pa.int64()), ("file:checksum", STRING), ("alternate:name", STRING), ("alternate", ALTERNATES),
])
TORRENT_ASSET = pa.struct([
    ("href", STRING), ("type", STRING), ("title", STRING), ("roles", STRINGS),
    ("file:size", pa.int64()), ("file:checksum", STRING), ("dfc:infohash_v1", STRING), ("dfc:infohash_v2", STRING),
])
METADATA_ASSET = pa.struct([("href", STRING), ("type", STRING), ("title", STRING), ("roles", STRINGS)])
ASSETS = pa.struct([
    ("data", DATA_ASSET), ("torrent", TORRENT_ASSET), ("manifest", METADATA_ASSET),
    ("torrent-v1", TORRENT_ASSET), ("tiles", DATA_ASSET), ("documentation", DATA_ASSET),  # a version's other files
])
LANGUAGE = pa.struct([("code", STRING), ("name", STRING), ("alternate", STRING)])
PROVIDER = pa.struct([("name", STRING), ("description", STRING), ("roles", STRINGS), ("url", STRING)])
BBOX = pa.struct([("xmin", pa.float64()), ("ymin", pa.float64()), ("xmax", pa.float64()), ("ymax", pa.float64())])

TOP_LEVEL_COLUMNS = ("type", "stac_version", "stac_extensions", "id", "geometry", "bbox", "links", "assets", "collection")

CATALOG_SCHEMA = pa.schema([
    pa.field("type", STRING, nullable=False),
    pa.field("stac_version", STRING, nullable=False),
    pa.field("stac_extensions", STRINGS, nullable=False),
    pa.field("id", STRING, nullable=False),
    pa.field("geometry", pa.binary(), nullable=False),
    pa.field("bbox", BBOX, nullable=False),
    pa.field("links", pa.list_(LINK), nullable=False),
    pa.field("assets", ASSETS, nullable=False),
    pa.field("collection", STRING, nullable=False),
    pa.field("datetime", UTC),
    pa.field("start_datetime", UTC),
    pa.field("end_datetime", UTC),
    pa.field("published", UTC),
    pa.field("title", STRING),
    pa.field("description", STRING),
    pa.field("dfc:title_fr", STRING),
    pa.field("dfc:description_fr", STRING),
    pa.field("language", LANGUAGE),
    pa.field("languages", pa.list_(LANGUAGE)),
    pa.field("license", STRING),
    pa.field("keywords", STRINGS),
    pa.field("providers", pa.list_(PROVIDER)),
    pa.field("version", STRING, nullable=False),
    pa.field("deprecated", pa.bool_()),
    pa.field("sci:doi", STRING),
    pa.field("sci:citation", STRING),
    pa.field("dfc:concept_doi", STRING),
])

PROPERTY_COLUMNS = tuple(name for name in CATALOG_SCHEMA.names if name not in TOP_LEVEL_COLUMNS)
TIMESTAMP_PROPERTIES = tuple(f.name for f in CATALOG_SCHEMA if pa.types.is_timestamp(f.type))
