"""Checks on a written catalog file before it is published: the blocking gate of `catalog/stac_geoparquet`.

GeoParquet conformance (geoparquet-validator: core and covering classes), the pinned schema, the footer against
the spec's JSON schema, every item against the vendored STAC schemas, and the version relations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import geoparquet_validator
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dfc_assets.catalog.geoparquet import read_catalog_table, read_footer, table_to_items
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA
from dfc_assets.catalog.validate import StacValidationError, item_problems, validate_footer
from dfc_assets.catalog.version_links import sort_items
from dfc_assets.versions import version_sort_key

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


def _order_problems(table: pa.Table) -> list[str]:
    """Over every row, from three columns: catalog order, and only the last version of each collection current."""
    collections = table.column("collection").to_pylist()
    versions = table.column("version").to_pylist()
    deprecated = table.column("deprecated").to_pylist()
    problems: list[str] = []
    previous: tuple | None = None
    for index, (collection, version) in enumerate(zip(collections, versions)):
        key = (collection or "", version_sort_key(version))
        if previous is not None and key <= previous:
            problems.append(f"rows are not sorted by collection then version order (row {index}: {collection} {version})")
            break
        previous = key
    for index, collection in enumerate(collections):
        last = index + 1 == len(collections) or collections[index + 1] != collection
        if bool(deprecated[index]) == last:
            problems.append(f"collection {collection!r}: version {versions[index]!r} has deprecated={deprecated[index]}, "
                            f"expected {not last} (only the latest version is current)")
    return problems


def verify_catalog_file(path: Path, *, only_collections: Collection[str] | None = None) -> int:
    """Raise CatalogFileError listing every problem; return the number of rows checked.

    GeoParquet conformance, schema, footer, catalog order and `deprecated` are checked over the whole file; the item
    checks (STAC schemas, version links) over the items of `only_collections`, or of every collection when None. An
    incremental update passes the collections it rewrote: the other rows are copied unchanged from a file that passed.
    """
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
    table = read_catalog_table(path)
    rows = table.num_rows
    problems.extend(_order_problems(table))
    if footer.get("collections"):
        absent = sorted(set(pc.unique(table.column("collection")).to_pylist()) - set(footer["collections"]))
        problems.extend(f"collection {c!r} is not in the footer" for c in absent)
    if only_collections is not None:
        table = table.filter(pc.is_in(table.column("collection"), value_set=pa.array(sorted(only_collections), pa.string())))
    items = table_to_items(table)
    for item in items:
        problems.extend(f"item {item['id']!r}: {p}" for p in item_problems(item))
    problems.extend(_relation_problems(items))
    if problems:
        raise CatalogFileError(f"catalog file {path} must not be published ({len(problems)} problem(s)):\n  - " + "\n  - ".join(problems))
    return rows
