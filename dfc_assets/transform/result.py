"""What a transform produced: the artifact's facts, as published in the manifest and the STAC item."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa


class TransformError(ValueError):
    """An upstream file that cannot be turned into the artifact; the message names the file and the cause."""


@dataclass(frozen=True)
class TransformResult:
    path: Path
    rows: int
    size: int
    sha256: str
    columns: tuple[tuple[str, str], ...]  # (name, arrow type string), in file order
    bbox: tuple[float, float, float, float] | None  # EPSG:4326 extent of vector data; None for tables
    footprint: dict | None  # small GeoJSON geometry (EPSG:4326) of the data's footprint; None for tables
    geometry_types: tuple[str, ...] = ()
    reference_start: date | None = None  # tables: min REF_START_DATE
    reference_end: date | None = None  # tables: max REF_END_DATE
    counts: tuple[tuple[str, int], ...] = ()  # what the transform noticed, e.g. ("invalid_geometries_repaired", 2)
    layout: dict | None = None  # the Parquet writer settings that shaped the bytes (csv_stream.RowGroupWriter.layout)


def sha256_of_file(path: Path, chunk_size: int = 4 * 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def schema_columns(schema: pa.Schema) -> tuple[tuple[str, str], ...]:
    return tuple((field.name, str(field.type)) for field in schema)
