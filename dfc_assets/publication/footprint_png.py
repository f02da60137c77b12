"""A small PNG of a version's footprint (EPSG:4326), drawn without a plotting library, for the Dagster UI."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import shapely
import shapely.geometry

CANADA_BBOX = (-141.01, 41.68, -52.62, 83.11)
FILL = (31, 119, 180)
EDGE = (8, 48, 107)
BACKGROUND = (246, 248, 250)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: np.ndarray) -> bytes:
    """RGB uint8 array (height, width, 3) -> PNG bytes (deterministic)."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def footprint_png(geometry: dict, *, width: int = 360, margin: float = 0.05) -> bytes:
    """The footprint filled, its outline darker, on a light background; the aspect follows the extent (lon scaled by cos lat)."""
    shape = shapely.geometry.shape(geometry)
    west, south, east, north = shape.bounds
    span_x, span_y = max(east - west, 1e-9), max(north - south, 1e-9)
    west, east = west - span_x * margin, east + span_x * margin
    south, north = south - span_y * margin, north + span_y * margin
    stretch = max(np.cos(np.radians((south + north) / 2)), 0.2)
    height = int(np.clip(width * (north - south) / ((east - west) * stretch), 40, 2 * width))
    xs = west + (np.arange(width) + 0.5) * (east - west) / width
    ys = north - (np.arange(height) + 0.5) * (north - south) / height
    grid_x, grid_y = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(shape, grid_x, grid_y)
    edge = inside & ~(np.roll(inside, 1, 0) & np.roll(inside, -1, 0) & np.roll(inside, 1, 1) & np.roll(inside, -1, 1))
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[:] = BACKGROUND
    pixels[inside] = FILL
    pixels[edge] = EDGE
    return encode_png(pixels)


def canada_polygon(bbox: tuple[float, float, float, float] = CANADA_BBOX) -> dict:
    """The footprint of national tables: Canada's extent."""
    west, south, east, north = bbox
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]}
