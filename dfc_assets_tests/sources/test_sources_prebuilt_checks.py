"""Format checks of prebuilt artifacts: sound files pass with the facts read from them; truncated or mislabelled
files are refused, saying what is wrong."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest

from dfc_assets.fixtures.boundaries import synthetic_provinces, write_synthetic_boundary_zip
from dfc_assets.sources.prebuilt_checks import PrebuiltFormatError, check_prebuilt, sniff_format
from dfc_assets.transform.pmtiles import geoparquet_to_pmtiles
from dfc_assets.transform.vector import vector_zip_to_geoparquet

CANADA = (-141.0, 41.7, -52.6, 82.5)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("prebuilt")
    geoparquet = vector_zip_to_geoparquet(write_synthetic_boundary_zip(folder / "lpr.zip"), folder / "lpr.parquet", log=lambda m: None).path
    pmtiles = geoparquet_to_pmtiles(geoparquet, folder / "lpr.pmtiles", name="lpr", max_zoom=3)
    plain = folder / "plain.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), plain)
    fgb = folder / "lpr.fgb"
    pyogrio.write_dataframe(synthetic_provinces().to_crs("EPSG:4326"), fgb, driver="FlatGeobuf")
    cog = write_tiny_cog(folder / "tiny.tif", west=-80.0, north=50.0, pixel=0.5)
    return {"geoparquet": geoparquet, "pmtiles": pmtiles, "parquet": plain, "flatgeobuf": fgb, "cog": cog}


def write_tiny_cog(path: Path, *, west: float, north: float, pixel: float, size: int = 16) -> Path:
    """A one-tile, uncompressed, 8-bit GeoTIFF in EPSG:4326 laid out as a COG (IFD first, then the tile)."""
    geokeys = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)
    entries = [  # (tag, type, values); type 3 SHORT, 4 LONG, 12 DOUBLE
        (256, 3, (size,)), (257, 3, (size,)), (258, 3, (8,)), (259, 3, (1,)), (262, 3, (1,)), (277, 3, (1,)),
        (322, 3, (size,)), (323, 3, (size,)), (324, 4, (0,)), (325, 4, (size * size,)),
        (33550, 12, (pixel, pixel, 0.0)), (33922, 12, (0.0, 0.0, 0.0, west, north, 0.0)), (34735, 3, geokeys),
    ]
    formats, sizes = {3: "H", 4: "I", 12: "d"}, {3: 2, 4: 4, 12: 8}
    ifd_size = 2 + 12 * len(entries) + 4
    extra_at = 8 + ifd_size
    extra = b""
    pointers = {}
    for tag, kind, values in entries:
        if sizes[kind] * len(values) > 4:
            pointers[tag] = extra_at + len(extra)
            extra += struct.pack("<" + formats[kind] * len(values), *values)
    tile_at = extra_at + len(extra)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, values in entries:
        if tag == 324:
            values = (tile_at,)
        if tag in pointers:
            field = struct.pack("<I", pointers[tag])
        else:
            field = struct.pack("<" + formats[kind] * len(values), *values).ljust(4, b"\0")
        ifd += struct.pack("<HHI", tag, kind, len(values)) + field
    ifd += struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + extra + bytes(range(256))[: size * size].ljust(size * size, b"\x07"))
    return path


def truncated(path: Path, out: Path, keep: float = 0.6) -> Path:
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


def test_pmtiles_passes_with_its_header_bounds(files):
    facts = check_prebuilt(files["pmtiles"], "pmtiles")
    assert facts.format == "pmtiles" and facts.extension == "pmtiles" and facts.media_type == "application/vnd.pmtiles"
    assert facts.bbox == pytest.approx(CANADA, abs=1e-6)
    assert facts.details["tile_type"] == "mvt" and (facts.details["min_zoom"], facts.details["max_zoom"]) == (0, 3)
    assert facts.footprint["type"] == "Polygon"


def test_geoparquet_passes_with_bbox_rows_and_schema(files):
    facts = check_prebuilt(files["geoparquet"], "geoparquet")
    assert facts.format == "geoparquet" and facts.rows == 13
    assert facts.bbox == pytest.approx(CANADA, abs=0.5)
    assert ("geometry", "binary") in facts.schema


def test_plain_parquet_passes_without_bbox(files):
    facts = check_prebuilt(files["parquet"], "parquet")
    assert facts.format == "parquet" and facts.rows == 3 and facts.bbox is None


def test_flatgeobuf_passes_with_bounds(files):
    facts = check_prebuilt(files["flatgeobuf"], "flatgeobuf")
    assert facts.extension == "fgb" and facts.rows == 13
    assert facts.bbox == pytest.approx(CANADA, abs=0.5)


def test_cog_passes_with_its_extent(files):
    facts = check_prebuilt(files["cog"], "cog")
    assert facts.extension == "tif" and facts.bbox == pytest.approx((-80.0, 42.0, -72.0, 50.0))


@pytest.mark.parametrize("fmt", ["pmtiles", "geoparquet", "parquet", "flatgeobuf", "cog"])
def test_a_truncated_file_is_refused(files, tmp_path, fmt):
    cut = truncated(files[fmt], tmp_path / files[fmt].name)
    with pytest.raises(PrebuiltFormatError, match="truncated|does not parse|cannot read|PAR1"):
        check_prebuilt(cut, fmt)


@pytest.mark.parametrize("declared, actual", [("pmtiles", "geoparquet"), ("geoparquet", "pmtiles"), ("cog", "flatgeobuf"),
                                              ("flatgeobuf", "parquet")])
def test_a_mislabelled_file_is_refused(files, declared, actual):
    with pytest.raises(PrebuiltFormatError, match="mislabelled"):
        check_prebuilt(files[actual], declared)


def test_plain_parquet_declared_geoparquet_is_refused(files):
    with pytest.raises(PrebuiltFormatError, match="plain Parquet"):
        check_prebuilt(files["parquet"], "geoparquet")


def test_an_html_error_page_is_refused(tmp_path):
    page = tmp_path / "x.pmtiles"
    page.write_text("<!doctype html><title>502</title>")
    assert sniff_format(page) is None
    with pytest.raises(PrebuiltFormatError, match="not a known format"):
        check_prebuilt(page, "pmtiles")


def test_geoparquet_with_broken_geo_metadata_is_refused(files, tmp_path):
    table = pq.read_table(files["geoparquet"])
    geo = json.loads(table.schema.metadata[b"geo"])
    geo["primary_column"] = "nope"
    broken = tmp_path / "broken.parquet"
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"geo": json.dumps(geo).encode()}), broken)
    with pytest.raises(PrebuiltFormatError, match="'nope'"):
        check_prebuilt(broken, "geoparquet")


def test_a_stripped_tiff_is_not_a_cog(tmp_path, files):
    data = bytearray(files["cog"].read_bytes())
    index = data.find(struct.pack("<HHI", 322, 3, 1))
    data[index:index + 2] = struct.pack("<H", 1322)  # the TileWidth tag renamed: no longer tiled
    stripped = tmp_path / "stripped.tif"
    stripped.write_bytes(bytes(data))
    with pytest.raises(PrebuiltFormatError, match="not tiled"):
        check_prebuilt(stripped, "cog")
