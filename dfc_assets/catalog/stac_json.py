"""The catalog as static STAC JSON for browsing tools: `catalog.json`, `{dataset}/collection.json`, `{dataset}/{item}.json`.

The same version links and relative hrefs as the GeoParquet file; every file is written to a temporary name and
moved into place, so a reader never sees half a JSON document.
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


def _write_json(path: Path, document: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temp, path)
    return path


def _navigation(title: str) -> list[dict]:
    return [
        {"rel": "root", "href": f"../{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title},
        {"rel": "parent", "href": f"../{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title},
    ]


def _geoparquet_link(url: str) -> dict:
    return {"rel": "alternate", "href": url, "type": PARQUET_MEDIA_TYPE, "title": "Every version as STAC GeoParquet"}


def write_stac_json(
    items: Sequence[dict],
    collections: Sequence[dict],
    out_dir: Path,
    *,
    catalog_id: str = "data-for-canada",
    title: str = "Data for Canada",
    description: str = "Every published version of every Data for Canada dataset, with its DOI and download links.",
    geoparquet_url: str | None = None,
) -> list[Path]:
    """Write the static STAC catalog; returns the files written (catalog first)."""
    out_dir = Path(out_dir)
    linked = link_versions(items)
    by_collection: dict[str, list[dict]] = {c["id"]: [] for c in collections}
    for item in linked:
        if item["collection"] not in by_collection:
            raise ValueError(f"item {item['id']!r} refers to collection {item['collection']!r}, which was not given")
        by_collection[item["collection"]].append(item)
    written: list[Path] = []
    child_links = []
    for collection in sorted(collections, key=lambda c: c["id"]):
        folder = out_dir / collection["id"]
        document = copy.deepcopy(collection)
        document["links"] = [l for l in document.get("links", []) if l.get("rel") not in ("root", "parent", "item", "child")]
        document["links"] += _navigation(title) + [
            {"rel": "item", "href": f"./{item['id']}.json", "type": GEOJSON_MEDIA_TYPE, "title": f"version {item['properties']['version']}"}
            for item in by_collection[collection["id"]]
        ]
        if geoparquet_url:
            document.setdefault("assets", {})["geoparquet-items"] = {
                "href": geoparquet_url, "type": PARQUET_MEDIA_TYPE, "roles": ["collection-mirror"],
                "title": "Every version of every dataset (STAC GeoParquet)",
                "description": "One row per dataset version, sorted by dataset then version; not spatially partitioned.",
            }
        for item in by_collection[collection["id"]]:
            item_document = copy.deepcopy(item)
            item_document["links"] = [l for l in item_document["links"] if l.get("rel") not in ("root", "parent")]
            item_document["links"] += [
                {"rel": "root", "href": f"../{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title},
                {"rel": "parent", "href": f"./{COLLECTION_FILE}", "type": JSON_MEDIA_TYPE, "title": collection.get("title")},
            ]
            written.append(_write_json(folder / f"{item['id']}.json", item_document))
        written.append(_write_json(folder / COLLECTION_FILE, document))
        child_links.append({"rel": "child", "href": f"./{collection['id']}/{COLLECTION_FILE}", "type": JSON_MEDIA_TYPE,
                            "title": collection.get("title")})
    root = {
        "type": "Catalog", "stac_version": STAC_VERSION, "stac_extensions": [], "id": catalog_id,
        "title": title, "description": description,
        "links": [{"rel": "root", "href": f"./{CATALOG_FILE}", "type": JSON_MEDIA_TYPE, "title": title}, *child_links],
    }
    if geoparquet_url:
        root["links"].append(_geoparquet_link(geoparquet_url))
    catalog_path = _write_json(out_dir / CATALOG_FILE, root)
    return [catalog_path, *written]
