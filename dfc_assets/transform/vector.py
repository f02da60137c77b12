"""A zipped shapefile / GeoPackage / GML -> one deterministic GeoParquet 1.1 file in EPSG:4326.

- The dataset inside the zip is found by its extension (``.shp``, ``.gpkg``, ``.gml``,
  ``.geojson``, ``.fgb`` or a ``.gdb`` folder); ``layer`` picks one when there are several
  datasets or layers. ``encoding`` overrides the attribute encoding (the 2011 boundary
  files are latin-1 without a ``.cpg``).
- A layer without a CRS (a shapefile without ``.prj``) is refused: its coordinates
  cannot be placed.
- Reprojected to EPSG:4326 with lon/lat axis order (pyproj ``always_xy``).
- Invalid geometries: ``invalid_geometries="repair"`` (default) runs
  ``shapely.make_valid(method="structure")``; ``"reject"`` fails naming the first
  offending features; ``"keep"`` writes them as they are. Counts go to the log and
  ``TransformResult.counts``.
- ``promote_to_multi=True`` makes every Point/LineString/Polygon a Multi* (as D4C's
  ``ogr2ogr -nlt PROMOTE_TO_MULTI``), so the column has one geometry type.
- Attribute names normalised by ``column_names.normalised_attribute_names`` (lower case
  ASCII identifiers; ``DGUID`` -> ``dguid``) unless ``normalise_names=False``; the
  geometry column is ``geometry``; attributes named ``geometry`` or ``bbox`` get the suffix
  ``_attribute``.
- Written by geopandas as GeoParquet 1.1 (``schema_version="1.1.0"``) with a ``bbox``
  covering column, zstd, source row order, no index, fixed settings: the same zip gives
  the same bytes.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
import shapely

from dfc_assets.transform.column_names import normalised_attribute_names
from dfc_assets.transform.result import TransformError, TransformResult, schema_columns, sha256_of_file
from dfc_assets.transform.zip_safety import DEFAULT_ZIP_LIMITS, ZipLimits, open_checked_zip

OUTPUT_CRS = "EPSG:4326"
DATASET_SUFFIXES = (".shp", ".gpkg", ".gml", ".geojson", ".fgb")
ZSTD_LEVEL = 3
ROW_GROUP_ROWS = 65_536
FOOTPRINT_MAX_POINTS = 256
GEOPARQUET_LAYOUT = {
    "writer": "geopandas", "schema_version": "1.1.0", "geometry_encoding": "WKB", "covering_bbox": True,
    "compression": "zstd", "compression_level": ZSTD_LEVEL, "row_group_rows": ROW_GROUP_ROWS, "row_order": "source",
}
RESERVED_COLUMNS = ("geometry", "bbox")

InvalidGeometries = Literal["repair", "reject", "keep"]


def _dataset_paths(zip_path: Path, zip_limits: ZipLimits) -> list[str]:
    with open_checked_zip(zip_path, where=zip_path.name, limits=zip_limits) as archive:
        names = archive.namelist()
    datasets = sorted(name for name in names if name.lower().endswith(DATASET_SUFFIXES) and not name.endswith("/"))
    gdb_folders = sorted({name[: name.lower().index(".gdb/") + 4] for name in names if ".gdb/" in name.lower()})
    return datasets + gdb_folders


def _pick_dataset(zip_path: Path, layer: str | None, zip_limits: ZipLimits) -> str:
    candidates = _dataset_paths(zip_path, zip_limits)
    if not candidates:
        raise TransformError(
            f"{zip_path.name}: no shapefile, GeoPackage, GML, GeoJSON, FlatGeobuf or File GDB inside the zip"
        )
    if len(candidates) > 1 and layer is not None:
        matching = [c for c in candidates if Path(c).stem.lower() == layer.lower()]
        if len(matching) == 1:
            return matching[0]
    if len(candidates) > 1:
        raise TransformError(f"{zip_path.name}: several datasets inside ({', '.join(candidates)}); name one with layer=")
    return candidates[0]


def _footprint(geometries: gpd.GeoSeries) -> dict | None:
    present = geometries[~(geometries.isna() | geometries.is_empty)]
    if present.empty:
        return None
    hull = shapely.convex_hull(shapely.geometrycollections(present.values))
    if shapely.get_num_coordinates(hull) > FOOTPRINT_MAX_POINTS:
        hull = shapely.simplify(hull, 0.01)
    return json.loads(shapely.to_geojson(shapely.set_precision(hull, 1e-6)))


def _promoted_to_multi(geometries):
    singles = {"Point": shapely.multipoints, "LineString": shapely.multilinestrings, "Polygon": shapely.multipolygons}
    promoted = geometries.copy()
    kinds = shapely.get_type_id(geometries)
    for kind_name, make in singles.items():
        kind_id = {"Point": 0, "LineString": 1, "Polygon": 3}[kind_name]
        mask = kinds == kind_id
        if mask.any():
            promoted[mask] = [make([geometry]) for geometry in geometries[mask]]
    return promoted


def vector_zip_to_geoparquet(
    zip_path: Path,
    out_path: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    invalid_geometries: InvalidGeometries = "repair",
    normalise_names: bool = True,
    promote_to_multi: bool = False,
    zip_limits: ZipLimits = DEFAULT_ZIP_LIMITS,
    log: Callable[[str], None] = lambda message: None,
) -> TransformResult:
    zip_path, out_path = Path(zip_path), Path(out_path)
    if not zip_path.exists():
        raise TransformError(f"{zip_path.name}: file not found at {zip_path}")
    dataset = _pick_dataset(zip_path, layer, zip_limits)
    where = f"{zip_path.name}!{dataset}"
    source = f"/vsizip/{zip_path.resolve()}/{dataset}"
    try:
        layers = [name for name, _ in pyogrio.list_layers(source)]
    except Exception as error:  # pyogrio raises DataSourceError and friends
        raise TransformError(f"{where}: GDAL cannot open it: {error}") from None
    if layer is not None and layer in layers:
        chosen = layer
    elif len(layers) == 1:
        chosen = layers[0]
    else:
        raise TransformError(f"{where}: layers {layers}; name one with layer= (got {layer!r})")
    where = f"{where} layer {chosen}"
    if encoding is not None:
        try:
            # GDAL misreads the spelling "latin-1"; Python's canonical codec name ("iso8859-1") works.
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise TransformError(f"{where}: unknown encoding {encoding!r}") from None
    try:
        frame = gpd.read_file(source, layer=chosen, engine="pyogrio", encoding=encoding)
    except Exception as error:
        raise TransformError(f"{where}: could not be read: {error}") from None
    if frame.crs is None:
        raise TransformError(f"{where}: has no coordinate reference system (a shapefile without .prj?); cannot reproject to {OUTPUT_CRS}")
    source_features = len(frame)
    if source_features == 0:
        raise TransformError(f"{where}: has no features; nothing to publish")

    geometry = frame.geometry
    missing = int(geometry.isna().sum())
    invalid_mask = geometry.notna() & ~geometry.is_valid
    invalid = int(invalid_mask.sum())
    counts = [("features", source_features), ("null_geometries", missing), ("invalid_geometries", invalid)]
    if invalid:
        first = ", ".join(str(i) for i in frame.index[invalid_mask][:10])
        reasons = shapely.is_valid_reason(geometry[invalid_mask].values[:3])
        message = f"{where}: {invalid} invalid geometr{'y' if invalid == 1 else 'ies'} (features {first}; {'; '.join(reasons)})"
        if invalid_geometries == "reject":
            raise TransformError(message + "; rejected by configuration (invalid_geometries='reject')")
        if invalid_geometries == "repair":
            repaired = shapely.make_valid(geometry[invalid_mask].values, method="structure", keep_collapsed=False)
            frame.loc[invalid_mask, frame.geometry.name] = repaired
            counts.append(("invalid_geometries_repaired", invalid))
            log(message + "; repaired with make_valid")
        else:
            log(message + "; kept as they are (invalid_geometries='keep')")
    if missing:
        log(f"{where}: {missing} feature(s) without geometry")

    if promote_to_multi:
        frame[frame.geometry.name] = _promoted_to_multi(frame.geometry.values)
    frame = frame.to_crs(OUTPUT_CRS)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    attributes = [name for name in frame.columns if name != "geometry"]
    renamed = normalised_attribute_names(attributes) if normalise_names else list(attributes)
    # "geometry" and the covering column "bbox" belong to GeoParquet; attributes so named step aside.
    renamed = [f"{name}_attribute" if name.lower() in RESERVED_COLUMNS else name for name in renamed]
    frame = frame.rename(columns=dict(zip(attributes, renamed)))
    frame = frame.reset_index(drop=True)

    geometry_types = tuple(sorted(set(frame.geometry.geom_type.dropna())))
    tmp_path = out_path.with_name(out_path.name + ".partial")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        frame.to_parquet(
            tmp_path,
            index=False,
            compression=GEOPARQUET_LAYOUT["compression"],
            compression_level=ZSTD_LEVEL,
            schema_version=GEOPARQUET_LAYOUT["schema_version"],
            write_covering_bbox=GEOPARQUET_LAYOUT["covering_bbox"],
            geometry_encoding=GEOPARQUET_LAYOUT["geometry_encoding"],
            row_group_size=ROW_GROUP_ROWS,
        )
        os.replace(tmp_path, out_path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()

    bounds = frame.geometry.total_bounds
    bbox = tuple(float(value) for value in bounds) if frame.geometry.notna().any() else None
    log(f"{where}: wrote {len(frame)} features ({', '.join(geometry_types)}) to {out_path.name}")
    return TransformResult(
        path=out_path,
        rows=len(frame),
        size=out_path.stat().st_size,
        sha256=sha256_of_file(out_path),
        columns=schema_columns(pq.read_schema(out_path)),
        bbox=bbox,
        footprint=_footprint(frame.geometry),
        geometry_types=geometry_types,
        counts=tuple(counts),
        layout=dict(GEOPARQUET_LAYOUT),
    )
