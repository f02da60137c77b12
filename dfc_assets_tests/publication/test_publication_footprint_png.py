import struct
import zlib

import numpy as np

from dfc_assets.publication.footprint_png import BACKGROUND, FILL, footprint_png


def decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    stream, width, height, pos = b"", 0, 0, 8
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + data) & 0xFFFFFFFF
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            stream += data
        pos += 12 + length
    raw = zlib.decompress(stream)
    rows = [raw[r * (1 + 3 * width) + 1:(r + 1) * (1 + 3 * width)] for r in range(height)]
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, 3)


def test_an_l_shape_is_drawn_where_it_is():
    l_shape = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 2], [2, 2], [2, 10], [0, 10], [0, 0]]]}
    pixels = decode(footprint_png(l_shape, width=100))
    height, width, _ = pixels.shape
    assert abs(height - width) <= 2  # square extent near the equator stays square
    assert tuple(pixels[height - 10, width - 10]) == FILL  # bottom-right arm
    assert tuple(pixels[10, width - 10]) == BACKGROUND  # the notch
    assert tuple(pixels[10, 10]) == FILL  # top-left arm
    assert footprint_png(l_shape, width=100) == footprint_png(l_shape, width=100)


def test_a_multipolygon_keeps_its_gap():
    two = {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]], [[[3, 0], [4, 0], [4, 1], [3, 1], [3, 0]]]]}
    pixels = decode(footprint_png(two, width=200))
    middle_row = pixels[pixels.shape[0] // 2]
    assert tuple(middle_row[100]) == BACKGROUND and tuple(middle_row[20]) == FILL and tuple(middle_row[180]) == FILL
