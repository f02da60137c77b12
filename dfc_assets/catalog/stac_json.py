"""The catalog as static STAC JSON for browsing tools: `catalog.json`, `{dataset}/collection.json`, `{dataset}/{item}.json`.

The same version links (but `latest-version`, see `item_document`) and relative hrefs as the GeoParquet file. Each document is rendered on its own
(`dataset_documents`, `root_document`), so a catalog update renders and uploads only the datasets that changed;
`write_stac_json` writes the whole tree into a folder, each file to a temporary name moved into place.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path

from dfc_assets.catalog.conventions import COLLECTION_FILE, GEOJSON_MEDIA_TYPE, JSON_MEDIA_TYPE, PARQUET_MEDIA_TYPE, STAC_VERSION
from dfc_assets.catalog.version_links import link_versions

CATALOG_FILE = "catalog.json"


CATALOG_ID = "data-for-canada"
CATALOG_TITLE = "Data for Canada"
CATALOG_DESCRIPTION = "Every published version of every Data for Canada dataset, with its DOI and download links."


def encode_json(document: dict) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_json(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)
    return path


def _geoparquet_link(url: str) -> dict:
    return {"rel": "alternate", "href": url, "type": PARQUET_MEDIA_TYPE, "title": "Every version as STAC GeoParquet"}


def item_document(item: dict, collection: dict, *, title: str = CATALOG_TITLE) -> dict:
    """`{dataset}/{item}.json` of one version-linked item, without its `latest-version` link.

    A new version changes the latest-version link of every older version; left in, each new version would rewrite
    all of its dataset's files. Without it, a new version rewrites its own file, its neighbours' (predecessor and
    successor, `deprecated` of the previous latest) and the collection, whose item links name the latest. The
    GeoParquet rows keep `latest-version` (the catalog's queries use it)."""
    document = copy.deepcopy(item)
    document["links"] = _document_links(document)
    document["links"] += [
        {"rel": "root", "href": f"../{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title},
        {"rel": "parent", "href": f"./{COLLECTION_FILE}", "type": JSON_MEDIA_TYPE, "title": collection.get("title")},
    ]
    return document


def _document_links(item: dict) -> list[dict]:
    return [l for l in item.get("links", []) if l.get("rel") not in ("root", "parent", "latest-version")]


def same_item_document(old: dict, new: dict, old_collection: dict, new_collection: dict) -> bool:
    """Whether `item_document` gives the same file for both, without rendering either (an update compares thousands)."""
    if old_collection.get("title") != new_collection.get("title"):
        return False
    return {**old, "links": _document_links(old)} == {**new, "links": _document_links(new)}


def collection_document(collection: dict, items: Sequence[dict], *, title: str = CATALOG_TITLE,
                        geoparquet_url: str | None = None) -> dict:
    """`{dataset}/collection.json`, linking the dataset's version-linked items in catalog order."""
    document = copy.deepcopy(collection)
    document["links"] = [l for l in document.get("links", []) if l.get("rel") not in ("root", "parent", "item", "child")]
    document["links"] += [
        {"rel": "root", "href": f"../{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title},
        {"rel": "parent", "href": f"../{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title},
    ] + [
        {"rel": "item", "href": f"./{item['id']}.json", "type": GEOJSON_MEDIA_TYPE,
         "title": f"version {item['properties']['version']}" + ("" if item["properties"].get("deprecated") else " (latest)")}
        for item in items
    ]
    if geoparquet_url:
        document.setdefault("assets", {})["geoparquet-items"] = {
            "href": geoparquet_url, "type": PARQUET_MEDIA_TYPE, "roles": ["collection-mirror"],
            "title": "Every version of every dataset (STAC GeoParquet)",
            "description": "One row per dataset version, sorted by dataset then version; not spatially partitioned.",
        }
    return document


def root_document(collections: Sequence[dict], *, catalog_id: str = CATALOG_ID, title: str = CATALOG_TITLE,
                  description: str = CATALOG_DESCRIPTION, geoparquet_url: str | None = None) -> dict:
    """`catalog.json`: one child link per collection, in id order."""
    child_links = [{"rel": "child", "href": f"./{c['id']}/{COLLECTION_FILE}", "type": JSON_MEDIA_TYPE, "title": c.get("title")}
                   for c in sorted(collections, key=lambda c: c["id"])]
    root = {
        "type": "Catalog", "stac_version": STAC_VERSION, "stac_extensions": [], "id": catalog_id,
        "title": title, "description": description,
        "links": [{"rel": "root", "href": f"./{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title}, *child_links],
    }
    if geoparquet_url:
        root["links"].append(_geoparquet_link(geoparquet_url))
    return root


def item_path(item: dict) -> str:
    return f"{item['collection']}/{item['id']}.json"


def collection_path(collection: dict) -> str:
    return f"{collection['id']}/{COLLECTION_FILE}"


def dataset_documents(collection: dict, items: Sequence[dict], *, title: str = CATALOG_TITLE,
                      geoparquet_url: str | None = None) -> dict[str, bytes]:
    """Relative path -> bytes of every STAC JSON file of one dataset: its items, then its collection.

    `items` are the dataset's version-linked items in catalog order (`link_versions`)."""
    documents = {item_path(item): encode_json(item_document(item, collection, title=title)) for item in items}
    documents[collection_path(collection)] = encode_json(collection_document(collection, items, title=title, geoparquet_url=geoparquet_url))
    return documents


def write_stac_json(
    items: Sequence[dict],
    collections: Sequence[dict],
    out_dir: Path,
    *,
    catalog_id: str = CATALOG_ID,
    title: str = CATALOG_TITLE,
    description: str = CATALOG_DESCRIPTION,
    geoparquet_url: str | None = None,
) -> list[Path]:
    """Write the whole static STAC catalog into a folder; returns the files written (catalog first)."""
    out_dir = Path(out_dir)
    linked = link_versions(items)
    by_collection: dict[str, list[dict]] = {c["id"]: [] for c in collections}
    for item in linked:
        if item["collection"] not in by_collection:
            raise ValueError(f"item {item['id']!r} refers to collection {item['collection']!r}, which was not given")
        by_collection[item["collection"]].append(item)
    written: list[Path] = []
    for collection in sorted(collections, key=lambda c: c["id"]):
        documents = dataset_documents(collection, by_collection[collection["id"]], title=title, geoparquet_url=geoparquet_url)
        written += [_write_json(out_dir / path, data) for path, data in documents.items()]
    root = root_document(collections, catalog_id=catalog_id, title=title, description=description, geoparquet_url=geoparquet_url)
    catalog_path = _write_json(out_dir / CATALOG_FILE, encode_json(root))
    return [catalog_path, *written]
