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
        children = {arrow_type.field(i).name: _checker(arrow_type.field(i).type) for i in range(arrow_type.num_fields)}

        def check_object(value: Any, where: str, unknown: list[str]) -> None:
            if not isinstance(value, dict):
                unknown.append(f"{where} (must be an object)")
                return
            for name, child_value in value.items():
                if name not in children:
                    unknown.append(f"{where}/{name}")
                elif child_value is not None and (child := children[name]) is not None:
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


def item_to_row(item: dict) -> dict:
    """One row with geometry still GeoJSON (`items_to_rows` encodes all geometries to WKB at once)."""
    where = f"item {item.get('id')!r}"
    properties = item.get("properties") or {}
    unknown = [k for k in item if k not in _TOP_LEVEL_NAMES] + [f"properties/{k}" for k in properties if k not in _PROPERTY_NAMES]
    row: dict[str, Any] = {name: item.get(name) for name in TOP_LEVEL_COLUMNS}
    row.update(properties)
    for name, check in _NESTED_CHECKERS:
        if row.get(name) is not None:
            check(row[name], name, unknown)
    if unknown:
        raise ItemSchemaError(f"{where}: field(s) {unknown} are not in the catalog schema; "
                              "add them to dfc_assets/catalog/table_schema.py deliberately")
    bbox = item.get("bbox") or ()
    if len(bbox) != 4:
        raise ItemSchemaError(f"{where}: bbox must have 4 numbers (2D), got {bbox!r}")
    row["bbox"] = dict(zip(BBOX_KEYS, (float(v) for v in bbox)))
    for name in TIMESTAMP_PROPERTIES:
        if isinstance(row.get(name), str):
            row[name] = parse_datetime(row[name])
    for field in CATALOG_SCHEMA:
        if not field.nullable and row.get(field.name) is None:
            raise ItemSchemaError(f"{where}: required field {field.name!r} is missing")
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
