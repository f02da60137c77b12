"""STAC item dict <-> catalog row, following the pinned schema exactly in both directions.

Writing refuses keys the schema does not know; reading drops the nulls that Parquet needs for absent fields,
so an item comes back with exactly the keys it was written with (`properties.datetime` stays, null or not).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import pyarrow as pa
import shapely

from dfc_assets.catalog.conventions import format_datetime, parse_datetime
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA, PROPERTY_COLUMNS, TIMESTAMP_PROPERTIES, TOP_LEVEL_COLUMNS

BBOX_KEYS = ("xmin", "ymin", "xmax", "ymax")


class ItemSchemaError(ValueError):
    """An item that does not fit the catalog's pinned schema."""


Checker = Callable[[Any, str, list[str]], None]


def _checker(arrow_type: pa.DataType) -> Checker | None:
    """A function that appends the paths of object keys the pinned type has no field for (pyarrow would drop
    them silently); None for leaf types, which pyarrow itself checks when it converts."""
    if pa.types.is_struct(arrow_type):
        known = frozenset(arrow_type.field(i).name for i in range(arrow_type.num_fields))
        nested = tuple((arrow_type.field(i).name, c) for i in range(arrow_type.num_fields) if (c := _checker(arrow_type.field(i).type)))

        def check_object(value: Any, where: str, unknown: list[str]) -> None:
            if not isinstance(value, dict):
                unknown.append(f"{where} (must be an object)")
                return
            if not value.keys() <= known:  # one set operation per object on the hot path; names only on failure
                unknown.extend(f"{where}/{name}" for name in value if name not in known)
            for name, child in nested:
                if (child_value := value.get(name)) is not None:
                    child(child_value, f"{where}/{name}", unknown)

        return check_object
    if pa.types.is_list(arrow_type):
        element = _checker(arrow_type.value_type)
        if element is None:
            return None

        def check_list(value: Any, where: str, unknown: list[str]) -> None:
            if not isinstance(value, list | tuple):
                unknown.append(f"{where} (must be a list)")
                return
            for i, child_value in enumerate(value):
                if child_value is not None:
                    element(child_value, f"{where}/{i}", unknown)

        return check_list
    return None


_NESTED_CHECKERS = tuple((f.name, c) for f in CATALOG_SCHEMA if f.name != "bbox" and (c := _checker(f.type)) is not None)
_PROPERTY_NAMES = frozenset(PROPERTY_COLUMNS)
_TOP_LEVEL_NAMES = frozenset(TOP_LEVEL_COLUMNS) | {"properties"}


_REQUIRED_COLUMNS = tuple(f.name for f in CATALOG_SCHEMA if not f.nullable)


def item_to_row(item: dict) -> dict:
    """One row with geometry still GeoJSON (`items_to_rows` encodes all geometries to WKB at once)."""
    properties = item.get("properties") or {}
    unknown: list[str] = []
    if not (item.keys() <= _TOP_LEVEL_NAMES and properties.keys() <= _PROPERTY_NAMES):
        unknown = [k for k in item if k not in _TOP_LEVEL_NAMES] + [f"properties/{k}" for k in properties if k not in _PROPERTY_NAMES]
    row: dict[str, Any] = {name: item.get(name) for name in TOP_LEVEL_COLUMNS}
    row.update(properties)
    for name, check in _NESTED_CHECKERS:
        if (value := row.get(name)) is not None:
            check(value, name, unknown)
    if unknown:
        raise ItemSchemaError(f"item {item.get('id')!r}: field(s) {unknown} are not in the catalog schema; "
                              "add them to dfc_assets/catalog/table_schema.py deliberately")
    bbox = item.get("bbox") or ()
    if len(bbox) != 4:
        raise ItemSchemaError(f"item {item.get('id')!r}: bbox must have 4 numbers (2D), got {bbox!r}")
    row["bbox"] = dict(zip(BBOX_KEYS, (float(v) for v in bbox)))
    for name in TIMESTAMP_PROPERTIES:
        if isinstance(row.get(name), str):
            row[name] = parse_datetime(row[name])
    for name in _REQUIRED_COLUMNS:
        if row.get(name) is None:
            raise ItemSchemaError(f"item {item.get('id')!r}: required field {name!r} is missing")
    return row


def items_to_rows(items: Sequence[dict]) -> list[dict]:
    rows = [item_to_row(item) for item in items]
    geometries = shapely.from_geojson(np.array([json.dumps(row["geometry"]) for row in rows], dtype=object))
    for row, wkb in zip(rows, shapely.to_wkb(geometries, flavor="iso")):
        row["geometry"] = wkb
    return rows


def _from_arrow_value(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_struct(arrow_type):
        out = {}
        for i in range(arrow_type.num_fields):
            field = arrow_type.field(i)
            converted = _from_arrow_value(value.get(field.name), field.type)
            if converted is not None:
                out[field.name] = converted
        return out
    if pa.types.is_list(arrow_type):
        return [_from_arrow_value(v, arrow_type.value_type) for v in value]
    if pa.types.is_timestamp(arrow_type):
        return format_datetime(value)
    return value


def row_to_item(row: dict, schema: pa.Schema = CATALOG_SCHEMA) -> dict:
    item: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for field in schema:
        value = row.get(field.name)
        if field.name == "geometry":
            item["geometry"] = json.loads(shapely.to_geojson(shapely.from_wkb(value)))
        elif field.name == "bbox":
            item["bbox"] = [value[k] for k in BBOX_KEYS]
        elif field.name in TOP_LEVEL_COLUMNS:
            converted = _from_arrow_value(value, field.type)
            if converted is not None:
                item[field.name] = converted
        else:
            converted = _from_arrow_value(value, field.type)
            if converted is not None or field.name == "datetime":
                properties[field.name] = converted
    ordered = {k: item[k] for k in ("type", "stac_version", "stac_extensions", "id", "geometry", "bbox") if k in item}
    ordered["properties"] = properties
    ordered.update({k: v for k, v in item.items() if k not in ordered})
    return ordered
