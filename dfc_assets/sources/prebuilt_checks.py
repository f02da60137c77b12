"""Format checks of prebuilt artifacts: files other pipelines made, published exactly as they are.

Before a prebuilt file is archived, its structure is checked far enough that a truncated, mislabelled or
foreign file is refused, and its facts (bbox, footprint, rows, schema) are read from the file itself:

- PMTiles v3: the 127-byte header, every section inside the file, the root and leaf directories parse, every
  tile entry inside the tile data section; bbox from the header.
- Parquet: ``PAR1`` at both ends and a footer pyarrow reads; GeoParquet: the ``geo`` metadata (version, primary
  column in the schema, WKB or native encoding); bbox from the ``geo`` column bbox, else from the covering
  column's statistics, else from the geometries.
- FlatGeobuf: the magic bytes, the header inside the file, GDAL (pyogrio) reads the header and the last feature.
- Cloud-optimised GeoTIFF: a (Big)TIFF whose IFDs, tiles and byte counts lie inside the file, tiled, with the
  IFDs before the image data; bbox from the GeoTIFF tie point and pixel scale when the CRS is EPSG:4326.

The bytes are never changed: what is checked is what is published (same sha256).
"""

from __future__ import annotations

import gzip
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from dfc_assets.storage.media_types import COG, FLATGEOBUF, PARQUET, PMTILES

PREBUILT_FORMATS = ("pmtiles", "geoparquet", "parquet", "flatgeobuf", "cog")
EXTENSION = {"pmtiles": "pmtiles", "geoparquet": "parquet", "parquet": "parquet", "flatgeobuf": "fgb", "cog": "tif"}
MEDIA_TYPE = {"pmtiles": PMTILES, "geoparquet": PARQUET, "parquet": PARQUET, "flatgeobuf": FLATGEOBUF, "cog": COG}
FLATGEOBUF_MAGIC = b"fgb\x03fgb"
WGS84_CODES = {("EPSG", "4326"), ("OGC", "CRS84")}


class PrebuiltFormatError(ValueError):
    """A prebuilt file that is not the format it is said to be, or is damaged; the message says what is wrong."""


@dataclass(frozen=True)
class PrebuiltFacts:
    format: str
    extension: str
    media_type: str
    bbox: tuple[float, float, float, float] | None = None   # EPSG:4326
    rows: int | None = None
    schema: tuple[tuple[str, str], ...] = ()
    geometry_types: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)

    @property
    def footprint(self) -> dict | None:
        if self.bbox is None:
            return None
        west, south, east, north = self.bbox
        return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]}


def sniff_format(path: Path) -> str | None:
    """The format the first bytes say (``parquet`` for any Parquet file), or None."""
    with open(path, "rb") as handle:
        start = handle.read(8)
    if start.startswith(b"PMTiles"):
        return "pmtiles"
    if start.startswith(b"PAR1"):
        return "parquet"
    if start.startswith(FLATGEOBUF_MAGIC):
        return "flatgeobuf"
    if start[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "cog"
    return None


def check_prebuilt(path: Path, declared: str) -> PrebuiltFacts:
    """Check ``path`` is a sound ``declared`` file and read its facts; PrebuiltFormatError otherwise."""
    if declared not in PREBUILT_FORMATS:
        raise PrebuiltFormatError(f"unknown prebuilt format {declared!r}; one of {', '.join(PREBUILT_FORMATS)}")
    size = path.stat().st_size
    if size == 0:
        raise PrebuiltFormatError("the file is empty (0 bytes)")
    found = sniff_format(path)
    expected = "parquet" if declared == "geoparquet" else declared
    if found != expected:
        raise PrebuiltFormatError(f"the file is declared {declared} but its first bytes are "
                                  f"{'those of a ' + found + ' file' if found else 'not a known format'}; refusing a mislabelled file")
    checker = {"pmtiles": _check_pmtiles, "geoparquet": _check_parquet, "parquet": _check_parquet,
               "flatgeobuf": _check_flatgeobuf, "cog": _check_cog}[declared]
    facts = checker(path, size, declared)
    if declared == "geoparquet" and facts.format != "geoparquet":
        raise PrebuiltFormatError("the file is declared geoparquet but is plain Parquet (no 'geo' metadata)")
    return facts


# -- PMTiles ---------------------------------------------------------------------------------------------------

def _check_pmtiles(path: Path, size: int, declared: str) -> PrebuiltFacts:
    from pmtiles.tile import Compression, deserialize_directory, deserialize_header

    with open(path, "rb") as handle:
        def read(offset: int, length: int) -> bytes:
            handle.seek(offset)
            return handle.read(length)

        if size < 127:
            raise PrebuiltFormatError(f"PMTiles header needs 127 bytes, the file has {size}")
        try:
            header = deserialize_header(read(0, 127))
        except Exception as error:
            raise PrebuiltFormatError(f"PMTiles header does not parse: {error}") from None
        if header["version"] != 3:
            raise PrebuiltFormatError(f"PMTiles version {header['version']}; only version 3 is published")
        sections = {
            "root directory": ("root_offset", "root_length"), "metadata": ("metadata_offset", "metadata_length"),
            "leaf directories": ("leaf_directory_offset", "leaf_directory_length"), "tile data": ("tile_data_offset", "tile_data_length"),
        }
        for name, (offset, length) in sections.items():
            if header[offset] + header[length] > size:
                raise PrebuiltFormatError(f"PMTiles {name} ends at byte {header[offset] + header[length]}, the file has {size} bytes (truncated?)")
        compression = header["internal_compression"]
        if compression not in (Compression.GZIP, Compression.NONE):
            raise PrebuiltFormatError(f"PMTiles internal compression {compression!r} is not supported by the check")

        def directory(offset: int, length: int):
            data = read(offset, length)
            if compression == Compression.NONE:
                data = gzip.compress(data, mtime=0)  # deserialize_directory expects gzip
            try:
                return deserialize_directory(data)
            except Exception as error:
                raise PrebuiltFormatError(f"PMTiles directory at byte {offset} does not parse: {error}") from None

        tiles, pending = 0, [(header["root_offset"], header["root_length"])]
        while pending:
            offset, length = pending.pop()
            for entry in directory(offset, length):
                if entry.run_length == 0:
                    if entry.offset + entry.length > header["leaf_directory_length"]:
                        raise PrebuiltFormatError(f"PMTiles leaf directory of tile {entry.tile_id} lies outside the leaf section")
                    pending.append((header["leaf_directory_offset"] + entry.offset, entry.length))
                else:
                    if entry.offset + entry.length > header["tile_data_length"]:
                        raise PrebuiltFormatError(f"PMTiles tile {entry.tile_id} lies outside the tile data section (truncated?)")
                    tiles += entry.run_length
        if tiles != header["addressed_tiles_count"] and header["addressed_tiles_count"]:
            raise PrebuiltFormatError(f"PMTiles header addresses {header['addressed_tiles_count']} tiles, its directories {tiles}")
        metadata_bytes = read(header["metadata_offset"], header["metadata_length"])
        try:
            metadata = json.loads(gzip.decompress(metadata_bytes) if compression == Compression.GZIP else metadata_bytes) if metadata_bytes else {}
        except Exception as error:
            raise PrebuiltFormatError(f"PMTiles metadata is not (compressed) JSON: {error}") from None
    bbox = tuple(header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
    _check_lonlat(bbox, "PMTiles header bounds")
    return PrebuiltFacts(
        format="pmtiles", extension="pmtiles", media_type=PMTILES, bbox=bbox,  # type: ignore[arg-type]
        details={"tile_type": header["tile_type"].name.lower(), "min_zoom": header["min_zoom"], "max_zoom": header["max_zoom"],
                 "addressed_tiles": tiles, "name": metadata.get("name") if isinstance(metadata, dict) else None},
    )


def _check_lonlat(bbox, what: str) -> None:
    west, south, east, north = bbox
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise PrebuiltFormatError(f"{what} {list(bbox)} are not longitude/latitude bounds")


# -- Parquet / GeoParquet --------------------------------------------------------------------------------------

def _check_parquet(path: Path, size: int, declared: str) -> PrebuiltFacts:
    import pyarrow.parquet as pq

    with open(path, "rb") as handle:
        handle.seek(size - 4)
        if handle.read(4) != b"PAR1":
            raise PrebuiltFormatError("no PAR1 magic at the end of the Parquet file (truncated?)")
    try:
        parquet = pq.ParquetFile(path)
        metadata = parquet.metadata
        schema = parquet.schema_arrow
    except Exception as error:
        raise PrebuiltFormatError(f"the Parquet footer does not parse: {error}") from None
    end_of_data = max((metadata.row_group(i).column(j).file_offset for i in range(metadata.num_row_groups)
                       for j in range(metadata.num_columns)), default=0)
    if end_of_data > size:
        raise PrebuiltFormatError(f"a Parquet column chunk ends at byte {end_of_data}, after the end of the file")
    columns = tuple((f.name, str(f.type)) for f in schema)
    geo_raw = (schema.metadata or {}).get(b"geo")
    if geo_raw is None:
        return PrebuiltFacts(format="parquet", extension="parquet", media_type=PARQUET, rows=metadata.num_rows, schema=columns)
    try:
        geo = json.loads(geo_raw)
        primary = geo["primary_column"]
        column = geo["columns"][primary]
        encoding = column["encoding"]
    except Exception as error:
        raise PrebuiltFormatError(f"GeoParquet 'geo' metadata is incomplete: {error!r}") from None
    if primary not in schema.names:
        raise PrebuiltFormatError(f"GeoParquet primary column {primary!r} is not in the file's schema")
    if not str(geo.get("version", "")).startswith("1."):
        raise PrebuiltFormatError(f"GeoParquet version {geo.get('version')!r}; 1.x is published")
    if encoding.upper() != "WKB" and encoding.lower() not in ("point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon"):
        raise PrebuiltFormatError(f"GeoParquet encoding {encoding!r} is not WKB or a native encoding")
    bbox = _geoparquet_bbox(parquet, geo, primary, column)
    return PrebuiltFacts(
        format="geoparquet", extension="parquet", media_type=PARQUET, bbox=bbox, rows=metadata.num_rows, schema=columns,
        geometry_types=tuple(column.get("geometry_types", ())), details={"geoparquet_version": geo.get("version"), "encoding": encoding},
    )


def _is_wgs84(crs) -> bool:
    if crs is None:
        return True  # GeoParquet's default is OGC:CRS84
    if isinstance(crs, dict):
        ident = crs.get("id") or {}
        return (str(ident.get("authority")), str(ident.get("code"))) in WGS84_CODES
    return str(crs).upper() in {"EPSG:4326", "OGC:CRS84"}


def _geoparquet_bbox(parquet, geo: dict, primary: str, column: dict) -> tuple[float, float, float, float]:
    import shapely

    bbox = column.get("bbox")
    if not bbox:
        covering = (column.get("covering") or {}).get("bbox")
        if covering:
            bbox = _covering_bbox(parquet, covering)
    if not bbox:
        values = []
        for batch in parquet.iter_batches(columns=[primary], batch_size=65536):
            geometries = shapely.from_wkb(batch.column(0).to_numpy(zero_copy_only=False))
            values.append(shapely.total_bounds(geometries))
        if not values:
            raise PrebuiltFormatError("GeoParquet file has no geometries to take a bbox from")
        bbox = [min(v[0] for v in values), min(v[1] for v in values), max(v[2] for v in values), max(v[3] for v in values)]
    bbox = [float(v) for v in bbox[:2] + bbox[-2:]] if len(bbox) == 6 else [float(v) for v in bbox]
    if not _is_wgs84(column.get("crs")):
        bbox = _to_lonlat(bbox, column["crs"])
    _check_lonlat(bbox, "GeoParquet bbox")
    return tuple(bbox)  # type: ignore[return-value]


def _covering_bbox(parquet, covering: dict) -> list[float] | None:
    """From the row group statistics of the covering columns (no data read)."""
    names = {key: ".".join(covering[key]) for key in ("xmin", "ymin", "xmax", "ymax")}
    metadata = parquet.metadata
    paths = {metadata.schema.column(j).path: j for j in range(metadata.num_columns)}
    if not all(name in paths for name in names.values()):
        return None
    found: dict[str, float] = {}
    for i in range(metadata.num_row_groups):
        for key, name in names.items():
            stats = metadata.row_group(i).column(paths[name]).statistics
            if stats is None or not stats.has_min_max:
                return None
            value = stats.min if key in ("xmin", "ymin") else stats.max
            pick = min if key in ("xmin", "ymin") else max
            found[key] = pick(found[key], value) if key in found else value
    return [found["xmin"], found["ymin"], found["xmax"], found["ymax"]] if found else None


def _to_lonlat(bbox: list[float], crs) -> list[float]:
    from pyproj import CRS, Transformer

    transformer = Transformer.from_crs(CRS.from_user_input(crs if not isinstance(crs, dict) else json.dumps(crs)), "EPSG:4326", always_xy=True)
    west, south, east, north = transformer.transform_bounds(*bbox, densify_pts=21)
    return [west, south, east, north]


# -- FlatGeobuf ------------------------------------------------------------------------------------------------

def _check_flatgeobuf(path: Path, size: int, declared: str) -> PrebuiltFacts:
    import pyogrio

    with open(path, "rb") as handle:
        start = handle.read(12)
    if len(start) < 12:
        raise PrebuiltFormatError("FlatGeobuf file is shorter than its magic bytes and header size")
    (header_size,) = struct.unpack("<I", start[8:12])
    if 12 + header_size > size:
        raise PrebuiltFormatError(f"FlatGeobuf header ends at byte {12 + header_size}, the file has {size} bytes (truncated?)")
    try:
        info = pyogrio.read_info(path, force_total_bounds=True)
        count = int(info["features"])
        if count > 0:
            pyogrio.read_dataframe(path, skip_features=count - 1, max_features=1)  # the last feature: the file is whole
    except Exception as error:
        raise PrebuiltFormatError(f"GDAL cannot read the FlatGeobuf file: {error}") from None
    bounds = [float(v) for v in info["total_bounds"]]
    crs = info.get("crs")
    if crs and not _is_wgs84(crs):
        bounds = _to_lonlat(bounds, crs)
    _check_lonlat(bounds, "FlatGeobuf bounds")
    columns = tuple((name, str(dtype)) for name, dtype in zip(info["fields"], info["dtypes"]))
    return PrebuiltFacts(format="flatgeobuf", extension="fgb", media_type=FLATGEOBUF, bbox=tuple(bounds),  # type: ignore[arg-type]
                         rows=count, schema=columns, geometry_types=(str(info.get("geometry_type")),))


# -- Cloud-optimised GeoTIFF -----------------------------------------------------------------------------------

TILE_WIDTH, TILE_OFFSETS, TILE_BYTE_COUNTS, STRIP_OFFSETS = 322, 324, 325, 273
MODEL_PIXEL_SCALE, MODEL_TIEPOINT, GEO_KEYS = 33550, 33922, 34735
IMAGE_WIDTH, IMAGE_LENGTH = 256, 257
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8}
TYPE_FORMATS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 11: "f", 12: "d", 16: "Q", 17: "q", 18: "Q"}


def _check_cog(path: Path, size: int, declared: str) -> PrebuiltFacts:
    with open(path, "rb") as handle:
        def read(offset: int, length: int) -> bytes:
            if offset + length > size:
                raise PrebuiltFormatError(f"TIFF structure points to bytes {offset}..{offset + length}, the file has {size} (truncated?)")
            handle.seek(offset)
            return handle.read(length)

        order = "<" if read(0, 2) == b"II" else ">"
        (magic,) = struct.unpack(order + "H", read(2, 2))
        big = magic == 43
        if big:
            first = struct.unpack(order + "Q", read(8, 8))[0]
        else:
            first = struct.unpack(order + "I", read(4, 4))[0]
        ifds, ifd_offsets, offset = [], [], first
        while offset:
            if len(ifds) > 64:
                raise PrebuiltFormatError("more than 64 TIFF IFDs: a loop or not a COG")
            ifd_offsets.append(offset)
            tags, offset = _read_ifd(read, order, big, offset)
            ifds.append(tags)
        if not ifds:
            raise PrebuiltFormatError("TIFF has no image")
        data_start = size
        for number, tags in enumerate(ifds):
            if TILE_WIDTH not in tags:
                raise PrebuiltFormatError(f"TIFF image {number} is not tiled (stripped); a cloud-optimised GeoTIFF is tiled")
            offsets, counts = tags.get(TILE_OFFSETS, ()), tags.get(TILE_BYTE_COUNTS, ())
            if len(offsets) != len(counts) or not offsets:
                raise PrebuiltFormatError(f"TIFF image {number} has {len(offsets)} tile offsets and {len(counts)} byte counts")
            for tile_offset, count in zip(offsets, counts):
                if count and tile_offset + count > size:
                    raise PrebuiltFormatError(f"TIFF image {number}: a tile ends at byte {tile_offset + count}, the file has {size} (truncated?)")
                if count:
                    data_start = min(data_start, tile_offset)
        if max(ifd_offsets) > data_start:
            raise PrebuiltFormatError("TIFF image directories come after image data; a cloud-optimised GeoTIFF has them first")
        main = ifds[0]
        bbox = _geotiff_bbox(main)
    details = {"images": len(ifds), "width": main.get(IMAGE_WIDTH, (None,))[0], "height": main.get(IMAGE_LENGTH, (None,))[0]}
    return PrebuiltFacts(format="cog", extension="tif", media_type=COG, bbox=bbox, details=details)


def _read_ifd(read, order: str, big: bool, offset: int) -> tuple[dict[int, tuple], int]:
    count_format, entry_size, next_format = ("Q", 20, "Q") if big else ("H", 12, "I")
    count_size = 8 if big else 2
    (count,) = struct.unpack(order + count_format, read(offset, count_size))
    raw = read(offset + count_size, count * entry_size)
    tags: dict[int, tuple] = {}
    for i in range(count):
        entry = raw[i * entry_size:(i + 1) * entry_size]
        if big:
            tag, kind, n = struct.unpack(order + "HHQ", entry[:12])
            inline, value_field = 8, entry[12:20]
        else:
            tag, kind, n = struct.unpack(order + "HHI", entry[:8])
            inline, value_field = 4, entry[8:12]
        item = TYPE_SIZES.get(kind)
        fmt = TYPE_FORMATS.get(kind)
        if item is None or fmt is None:
            continue  # ASCII, rationals and unknown types: not needed here
        length = item * n
        if length <= inline:
            data = value_field[:length]
        else:
            (pointer,) = struct.unpack(order + ("Q" if big else "I"), value_field)
            data = read(pointer, length)
        tags[tag] = struct.unpack(order + fmt * n, data)
    (next_offset,) = struct.unpack(order + next_format, read(offset + count_size + count * entry_size, 8 if big else 4))
    return tags, next_offset


def _geotiff_bbox(tags: dict[int, tuple]) -> tuple[float, float, float, float] | None:
    keys = tags.get(GEO_KEYS)
    scale, tie = tags.get(MODEL_PIXEL_SCALE), tags.get(MODEL_TIEPOINT)
    if not keys or not scale or not tie:
        return None
    entries = {keys[i]: keys[i + 3] for i in range(4, 4 + 4 * keys[3], 4)}
    if entries.get(2048) != 4326:
        return None  # projected: a footprint needs a reprojection the check does not do
    width, height = tags[IMAGE_WIDTH][0], tags[IMAGE_LENGTH][0]
    west, north = tie[3] - tie[0] * scale[0], tie[4] + tie[1] * scale[1]
    bbox = (west, north - height * scale[1], west + width * scale[0], north)
    _check_lonlat(bbox, "GeoTIFF extent")
    return bbox
