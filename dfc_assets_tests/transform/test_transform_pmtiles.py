"""PMTiles of a boundary file: the same bytes every build, and tiles that decode back to the geometries."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile
import pyarrow.parquet as pq
import pytest
import shapely
from pmtiles.reader import MemorySource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from dfc_assets.fixtures.boundaries import write_synthetic_boundary_zip
from dfc_assets.transform.pmtiles import EARTH_HALF, EXTENT, _tile_bounds, geoparquet_to_pmtiles, read_features
from dfc_assets.transform.result import TransformError
from dfc_assets.transform.vector import vector_zip_to_geoparquet


@pytest.fixture(scope="module")
def boundaries(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("boundaries")
    archive = write_synthetic_boundary_zip(folder / "lpr.zip")
    return vector_zip_to_geoparquet(archive, folder / "lpr.parquet", log=lambda message: None).path


def _build_in_fresh_process(source: Path, out: Path) -> bytes:
    """Another interpreter (another hash seed): what a second run on another day would do."""
    code = ("import sys; from pathlib import Path; from dfc_assets.transform.pmtiles import geoparquet_to_pmtiles; "
            "geoparquet_to_pmtiles(Path(sys.argv[1]), Path(sys.argv[2]), name='lpr')")
    subprocess.run([sys.executable, "-c", code, str(source), str(out)], check=True, env={"PYTHONHASHSEED": "12345", "PATH": ""})
    return out.read_bytes()


def test_two_builds_give_the_same_bytes(boundaries, tmp_path):
    first = geoparquet_to_pmtiles(boundaries, tmp_path / "a.pmtiles", name="lpr").read_bytes()
    second = _build_in_fresh_process(boundaries, tmp_path / "b.pmtiles")
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert len(first) > 1000


def _lonlat(x: float, y: float) -> tuple[float, float]:
    import math

    return x * 180 / EARTH_HALF, math.degrees(2 * math.atan(math.exp(y * math.pi / EARTH_HALF)) - math.pi / 2)


def test_tiles_decode_back_to_the_geometries(boundaries, tmp_path):
    data = geoparquet_to_pmtiles(boundaries, tmp_path / "t.pmtiles", name="lpr", max_zoom=4).read_bytes()
    reader = Reader(MemorySource(data))
    header = reader.header()
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (0, 4)
    assert reader.metadata()["vector_layers"][0]["id"] == "boundaries"
    geometries, properties = read_features(boundaries)
    by_id = {p["pruid"]: g for g, p in zip(geometries, properties)}
    seen: dict[int, dict[str, list]] = {}
    for (z, x, y), tile in all_tiles(MemorySource(data)):
        layer = mapbox_vector_tile.decode(gzip.decompress(tile))["boundaries"]
        assert layer["extent"] == EXTENT
        west, south, east, north = _tile_bounds(z, x, y)
        for feature in layer["features"]:
            def to_lonlat(coords):
                import numpy as np

                px = west + coords[:, 0] / EXTENT * (east - west)
                py = south + coords[:, 1] / EXTENT * (north - south)
                return np.array([_lonlat(a, b) for a, b in zip(px, py)])

            part = shapely.transform(shapely.geometry.shape(feature["geometry"]), to_lonlat)
            seen.setdefault(z, {}).setdefault(feature["properties"]["pruid"], []).append(part)
    # every zoom holds every province; the union of its pieces covers the original geometry (within a few grid cells)
    for z, pieces in seen.items():
        assert set(pieces) == set(by_id), z
    for pruid, original in by_id.items():
        rebuilt = shapely.union_all(seen[4][pruid])
        difference = shapely.area(shapely.symmetric_difference(rebuilt.buffer(0), original.buffer(0)))
        assert difference / original.area < 0.02, (pruid, difference / original.area)


def test_properties_are_the_attributes(boundaries, tmp_path):
    data = geoparquet_to_pmtiles(boundaries, tmp_path / "p.pmtiles", name="lpr", max_zoom=0).read_bytes()
    (((z, x, y), tile),) = list(all_tiles(MemorySource(data)))
    features = mapbox_vector_tile.decode(gzip.decompress(tile))["boundaries"]["features"]
    table = pq.read_table(boundaries)
    assert sorted(f["properties"]["prename"] for f in features) == sorted(table.column("prename").to_pylist())
    assert "bbox" not in features[0]["properties"]  # the GeoParquet covering struct is not an attribute


def test_a_file_without_geometry_is_refused(tmp_path):
    import pyarrow as pa

    pq.write_table(pa.table({"a": [1]}), tmp_path / "plain.parquet")
    with pytest.raises(TransformError, match="no GeoParquet geometry column"):
        geoparquet_to_pmtiles(tmp_path / "plain.parquet", tmp_path / "x.pmtiles", name="x")
