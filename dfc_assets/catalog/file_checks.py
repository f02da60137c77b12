"""Checks on a written catalog file before it is published: the blocking gate of `catalog/stac_geoparquet`.

GeoParquet conformance (geoparquet-validator: core and covering classes), the pinned schema, the footer against
the spec's JSON schema, every item against the vendored STAC schemas, and the version relations.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import geoparquet_validator
import pyarrow.parquet as pq

from dfc_assets.catalog.geoparquet import read_catalog, read_footer
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA
from dfc_assets.catalog.validate import StacValidationError, item_problems, validate_footer
from dfc_assets.catalog.version_links import sort_items

CONFORMANCE_CLASSES = ("core", "covering")


class CatalogFileError(ValueError):
    """The catalog file must not be published; the message lists every problem found."""


def geoparquet_problems(path: Path) -> list[str]:
    report = geoparquet_validator.check(str(path))
    problems = []
    for outcome in report["outcomes"]:
        if outcome["status"] == "fail" and outcome["id"].split("/")[2] in CONFORMANCE_CLASSES:
            problems.append(f"GeoParquet {outcome['id']}: {outcome['message']}")
    return problems


def _relation_problems(items: list[dict]) -> list[str]:
    problems = []
    if items != sort_items(items):
        problems.append("rows are not sorted by collection then version order")
    by_collection: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_collection[item["collection"]].append(item)
    for collection_id, versions in by_collection.items():
        ids = [i["id"] for i in versions]
        if len(set(ids)) != len(ids):
            problems.append(f"collection {collection_id!r}: duplicate item ids")
        latest = versions[-1]
        current = [i["id"] for i in versions if not i["properties"].get("deprecated")]
        if current != [latest["id"]]:
            problems.append(f"collection {collection_id!r}: non-deprecated items {current}, expected only the latest {latest['id']!r}")
        for item in versions:
            targets = [l["href"] for l in item["links"] if l["rel"] == "latest-version"]
            if len(targets) != 1 or not targets[0].endswith(f"/{latest['id']}.json"):
                problems.append(f"item {item['id']!r}: latest-version link {targets} does not point at {latest['id']!r}")
    return problems


def verify_catalog_file(path: Path) -> int:
    """Raise CatalogFileError listing every problem; return the number of items checked."""
    path = Path(path)
    problems = geoparquet_problems(path)
    schema = pq.read_schema(path)
    if not schema.remove_metadata().equals(CATALOG_SCHEMA):
        problems.append("Arrow schema differs from dfc_assets/catalog/table_schema.py CATALOG_SCHEMA")
    try:
        footer = read_footer(path)
        validate_footer(footer)
    except (StacValidationError, ValueError) as error:
        problems.append(f"footer: {error}")
        footer = {"collections": {}}
    items = read_catalog(path)
    for item in items:
        problems.extend(f"item {item['id']!r}: {p}" for p in item_problems(item))
        if footer.get("collections") and item["collection"] not in footer["collections"]:
            problems.append(f"item {item['id']!r}: collection {item['collection']!r} is not in the footer")
    problems.extend(_relation_problems(items))
    if problems:
        raise CatalogFileError(f"catalog file {path} must not be published ({len(problems)} problem(s)):\n  - " + "\n  - ".join(problems))
    return len(items)
