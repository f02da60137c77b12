"""STAC item dict <-> catalog row, following the pinned schema exactly in both directions.

Writing refuses keys the schema does not know; reading drops the nulls that Parquet needs for absent fields,
so an item comes back with exactly the keys it was written with (`properties.datetime` stays, null or not).
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import shapely
import shapely.geometry

from dfc_assets.catalog.conventions import format_datetime, parse_datetime
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA, PROPERTY_COLUMNS, TOP_LEVEL_COLUMNS

BBOX_KEYS = ("xmin", "ymin", "xmax", "ymax")


class ItemSchemaError(ValueError):
    """An item that does not fit the catalog's pinned schema."""


def _to_arrow_value(value: Any, arrow_type: pa.DataType, where: str) -> Any:
    if value is None:
        return None
    if pa.types.is_struct(arrow_type):
        if not isinstance(value, dict):
            raise ItemSchemaError(f"{where} must be an object")
        known = {arrow_type.field(i).name: arrow_type.field(i).type for i in range(arrow_type.num_fields)}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ItemSchemaError(f"{where} has field(s) {unknown} that the catalog schema does not hold; "
                                  "add them to dfc_assets/catalog/table_schema.py deliberately")
        return {name: _to_arrow_value(value.get(name), t, f"{where}/{name}") for name, t in known.items()}
    if pa.types.is_list(arrow_type):
        if not isinstance(value, list | tuple):
            raise ItemSchemaError(f"{where} must be a list")
        return [_to_arrow_value(v, arrow_type.value_type, f"{where}/{i}") for i, v in enumerate(value)]
    if pa.types.is_timestamp(arrow_type):
        return parse_datetime(value) if isinstance(value, str) else value
    return value


def item_to_row(item: dict) -> dict:
    where = f"item {item.get('id')!r}"
    unknown_top = sorted(set(item) - set(TOP_LEVEL_COLUMNS) - {"properties"})
    properties = item.get("properties") or {}
    unknown_props = sorted(set(properties) - set(PROPERTY_COLUMNS))
    if unknown_top or unknown_props:
        raise ItemSchemaError(f"{where}: field(s) {unknown_top + ['properties/' + p for p in unknown_props]} are not in the "
                              "catalog schema; add them to dfc_assets/catalog/table_schema.py deliberately")
    row: dict[str, Any] = {}
    for field in CATALOG_SCHEMA:
        if field.name == "geometry":
            row["geometry"] = shapely.to_wkb(shapely.geometry.shape(item["geometry"]), flavor="iso")
        elif field.name == "bbox":
            if len(item["bbox"]) != 4:
                raise ItemSchemaError(f"{where}: bbox must have 4 numbers (2D), got {item['bbox']!r}")
            row["bbox"] = dict(zip(BBOX_KEYS, (float(v) for v in item["bbox"])))
        else:
            source = item if field.name in TOP_LEVEL_COLUMNS else properties
            row[field.name] = _to_arrow_value(source.get(field.name), field.type, f"{where}/{field.name}")
        if row[field.name] is None and not field.nullable:
            raise ItemSchemaError(f"{where}: required field {field.name!r} is missing")
    return row


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
