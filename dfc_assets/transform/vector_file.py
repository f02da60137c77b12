"""One GeoJSON, GeoPackage or GeoParquet file (an ``http_file`` source) -> GeoParquet 1.1, through ``vector``.

The file goes through exactly the code path of boundary zips
(``vector.vector_zip_to_geoparquet``: layer choice, reprojection to EPSG:4326, invalid
geometries, attribute names, writer settings): it is wrapped, uncompressed, in a
throw-away zip beside the output. A ``.json`` file is named ``.geojson`` inside it.
GDAL here reads no Parquet, so GeoParquet is first read by geopandas and written to a
GeoPackage (same attributes, geometries and CRS). Errors name the file, not the wrapper.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from dfc_assets.transform.result import TransformError, TransformResult
from dfc_assets.transform.vector import InvalidGeometries, vector_zip_to_geoparquet

MEMBER_SUFFIXES = {".json": ".geojson", ".geojson": ".geojson", ".gpkg": ".gpkg", ".fgb": ".fgb", ".gml": ".gml"}


def _geoparquet_as_geopackage(path: Path, work: Path) -> Path:
    try:
        frame = gpd.read_parquet(path)
    except Exception as error:  # geopandas raises ValueError, ArrowInvalid and friends
        raise TransformError(f"{path.name}: not a readable GeoParquet file: {error}") from None
    target = work / f"{path.stem}.gpkg"
    frame.to_file(target, driver="GPKG", layer=path.stem, engine="pyogrio")
    return target


def vector_file_to_geoparquet(
    path: Path,
    out_path: Path,
    *,
    file_format: str,
    layer: str | None = None,
    encoding: str | None = None,
    invalid_geometries: InvalidGeometries = "repair",
    normalise_names: bool = True,
    promote_to_multi: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> TransformResult:
    """``file_format``: ``geojson``, ``gpkg`` or ``geoparquet``."""
    path, out_path = Path(path), Path(out_path)
    if not path.is_file():
        raise TransformError(f"{path.name}: file not found at {path}")
    work = out_path.parent / f".{out_path.name}.vector-file"
    work.mkdir(parents=True, exist_ok=True)
    try:
        readable = _geoparquet_as_geopackage(path, work) if file_format == "geoparquet" else path
        suffix = MEMBER_SUFFIXES.get(readable.suffix.lower()) or {"geojson": ".geojson", "gpkg": ".gpkg"}.get(file_format, readable.suffix)
        member = readable.stem + suffix
        wrapper = work / f"{path.name}.zip"
        with zipfile.ZipFile(wrapper, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            archive.write(readable, member)

        def unwrapped(message: str) -> str:
            return message.replace(f"{wrapper.name}!{member}", path.name).replace(wrapper.name, path.name)

        try:
            return vector_zip_to_geoparquet(
                wrapper, out_path, layer=layer, encoding=encoding, invalid_geometries=invalid_geometries,
                normalise_names=normalise_names, promote_to_multi=promote_to_multi, log=lambda message: log(unwrapped(message)),
            )
        except TransformError as error:
            raise TransformError(unwrapped(str(error))) from None
    finally:
        for leftover in sorted(work.glob("*")):
            leftover.unlink()
        work.rmdir()
