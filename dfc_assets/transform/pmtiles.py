"""PMTiles of a GeoParquet file's geometries: the map preview D4C publishes beside its boundary files.

Vector tiles (MVT, `mapbox-vector-tile`) in a PMTiles v3 archive (`pmtiles`), zoom ``min_zoom``..``max_zoom``,
one layer holding every feature with its plain attributes. Deterministic: the same GeoParquet gives the same
bytes on every run and machine (tiles in tile-id order, features in file order, gzip without a timestamp,
metadata with fixed keys, coordinates rounded by the MVT grid). Per tile, geometries are clipped to the tile
plus a small buffer and simplified to a quarter of the tile's grid cell, so tiles stay small at low zooms.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pyarrow.parquet as pq
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from dfc_assets.transform.result import TransformError

EARTH_HALF = 20037508.342789244  # half the width of the Web Mercator square, in metres
MAX_LATITUDE = 85.0511287798066
EXTENT = 4096
BUFFER = 64  # in tile grid units, as tippecanoe's default
DEFAULT_MIN_ZOOM = 0
DEFAULT_MAX_ZOOM = 6
DEFAULT_LAYER = "boundaries"


def _to_mercator(geometry: shapely.Geometry) -> shapely.Geometry:
    def project(coords: np.ndarray) -> np.ndarray:
        lon = coords[:, 0]
        lat = np.clip(coords[:, 1], -MAX_LATITUDE, MAX_LATITUDE)
        x = lon * EARTH_HALF / 180.0
        y = np.log(np.tan((90.0 + lat) * math.pi / 360.0)) * EARTH_HALF / math.pi
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = 2 * EARTH_HALF / (1 << z)
    west = -EARTH_HALF + x * size
    north = EARTH_HALF - y * size
    return west, north - size, west + size, north


def _tile_range(bounds: tuple[float, float, float, float], z: int) -> Iterator[tuple[int, int]]:
    n = 1 << z
    size = 2 * EARTH_HALF / n
    west, south, east, north = bounds
    x0, x1 = (max(0, min(n - 1, int((v + EARTH_HALF) // size))) for v in (west, east))
    y0, y1 = (max(0, min(n - 1, int((EARTH_HALF - v) // size))) for v in (north, south))
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            yield x, y


def _plain(value):
    """MVT attributes are scalars; nested values (a GeoParquet bbox covering struct) are left out."""
    if isinstance(value, bool | int | float | str):
        return value
    return None if value is None or isinstance(value, dict | list | tuple) else str(value)


def read_features(path: Path) -> tuple[list[shapely.Geometry], list[dict]]:
    """Geometries (EPSG:4326) and plain attributes of a GeoParquet file, in file order."""
    try:
        table = pq.read_table(path)
        geo = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    except Exception as error:
        raise TransformError(f"{path.name}: not a readable GeoParquet file: {error}") from error
    column = geo.get("primary_column")
    if not column or column not in table.column_names:
        raise TransformError(f"{path.name}: no GeoParquet geometry column (the file's 'geo' metadata names none)")
    crs = geo["columns"][column].get("crs")
    if crs is not None and not _is_wgs84(crs):
        raise TransformError(f"{path.name}: geometry column {column!r} is not in EPSG:4326; PMTiles are made from EPSG:4326")
    geometries = list(shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False)))
    attributes = table.drop_columns([column])
    names = attributes.column_names
    columns = [attributes.column(name).to_pylist() for name in names]
    properties = [{name: v for name, col in zip(names, columns) if (v := _plain(col[i])) is not None} for i in range(table.num_rows)]
    return geometries, properties


def _is_wgs84(crs) -> bool:
    if isinstance(crs, dict):
        ident = crs.get("id") or {}
        return (ident.get("authority"), str(ident.get("code"))) in {("EPSG", "4326"), ("OGC", "CRS84")}
    return str(crs).upper() in {"EPSG:4326", "OGC:CRS84"}


def encode_tile(z: int, x: int, y: int, features: list[tuple[shapely.Geometry, dict]], layer: str) -> bytes | None:
    """One gzip-compressed MVT tile of the features (already in Web Mercator), or None if nothing falls in it."""
    west, south, east, north = _tile_bounds(z, x, y)
    cell = (east - west) / EXTENT
    pad = BUFFER * cell
    encoded = []
    for geometry, properties in features:
        clipped = shapely.clip_by_rect(geometry, west - pad, south - pad, east + pad, north + pad)
        if clipped.is_empty:
            continue
        simplified = shapely.simplify(clipped, cell / 4, preserve_topology=True)
        if simplified.is_empty:
            continue
        encoded.append({"geometry": simplified, "properties": properties})
    if not encoded:
        return None
    data = mapbox_vector_tile.encode(
        [{"name": layer, "features": encoded}],
        default_options={"quantize_bounds": (west, south, east, north), "extents": EXTENT,
                         "on_invalid_geometry": on_invalid_geometry_make_valid},
    )
    return gzip.compress(data, compresslevel=9, mtime=0)


def geoparquet_to_pmtiles(
    source: Path, out_path: Path, *, name: str, description: str = "", layer: str = DEFAULT_LAYER,
    min_zoom: int = DEFAULT_MIN_ZOOM, max_zoom: int = DEFAULT_MAX_ZOOM,
) -> Path:
    """Write ``out_path``: the PMTiles v3 archive of ``source``'s geometries, zooms ``min_zoom``..``max_zoom``."""
    if not 0 <= min_zoom <= max_zoom <= 15:
        raise ValueError(f"zoom range {min_zoom}..{max_zoom} is not within 0..15")
    geometries, properties = read_features(source)
    present = [(_to_mercator(g), p) for g, p in zip(geometries, properties) if g is not None and not g.is_empty]
    if not present:
        raise TransformError(f"{source.name}: no geometries to make tiles of")
    lonlat = shapely.total_bounds([g for g in geometries if g is not None and not g.is_empty])
    bounds = tuple(shapely.total_bounds([g for g, _ in present]))
    tiles: list[tuple[int, bytes]] = []
    for z in range(min_zoom, max_zoom + 1):
        for x, y in _tile_range(bounds, z):  # type: ignore[arg-type]
            tile_west, tile_south, tile_east, tile_north = _tile_bounds(z, x, y)
            box = shapely.box(tile_west, tile_south, tile_east, tile_north)
            inside = [(g, p) for g, p in present if g.intersects(box)]
            data = encode_tile(z, x, y, inside, layer) if inside else None
            if data is not None:
                tiles.append((zxy_to_tileid(z, x, y), data))
    tiles.sort(key=lambda t: t[0])
    west, south, east, north = (float(v) for v in lonlat)
    header = {
        "tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
        "min_lon_e7": round(west * 1e7), "min_lat_e7": round(south * 1e7), "max_lon_e7": round(east * 1e7), "max_lat_e7": round(north * 1e7),
        "center_zoom": min_zoom, "center_lon_e7": round((west + east) / 2 * 1e7), "center_lat_e7": round((south + north) / 2 * 1e7),
    }
    fields = {key: ("Number" if isinstance(value, int | float) and not isinstance(value, bool) else "Boolean" if isinstance(value, bool) else "String")
              for p in properties[:1] for key, value in p.items()}
    metadata = {
        "name": name, "description": description, "type": "overlay", "format": "pbf",
        "vector_layers": [{"id": layer, "fields": fields, "minzoom": min_zoom, "maxzoom": max_zoom}],
        "generator": "dfc_assets.transform.pmtiles",
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "wb") as handle:
        writer = Writer(handle)
        for tile_id, data in tiles:
            writer.write_tile(tile_id, data)
        writer.finalize(header, metadata)
    return out_path
