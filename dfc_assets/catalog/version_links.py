"""Version relations between the items of each collection: predecessor, successor, latest, deprecated."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Sequence

from dfc_assets.catalog.conventions import COLLECTION_FILE, GEOJSON_MEDIA_TYPE
from dfc_assets.versions import version_sort_key

VERSION_RELS = ("latest-version", "predecessor-version", "successor-version")


def sibling_href(item: dict, other_id: str) -> str:
    """Items sit next to their collection JSON, so a sibling's href is the collection href with the file name swapped."""
    collection_link = next((l for l in item.get("links", []) if l.get("rel") == "collection"), None)
    if collection_link is None:
        raise ValueError(f"item {item.get('id')!r} has no 'collection' link, so its versions cannot be linked")
    href = collection_link["href"]
    folder = href[: -len(COLLECTION_FILE)] if href.endswith(COLLECTION_FILE) else href.rstrip("/") + "/"
    return f"{folder}{other_id}.json"


def _version_link(item: dict, rel: str, target: dict) -> dict:
    return {"rel": rel, "href": sibling_href(item, target["id"]), "type": GEOJSON_MEDIA_TYPE,
            "title": f"version {target['properties']['version']}"}


def sort_items(items: Sequence[dict]) -> list[dict]:
    """Catalog order: collection, then release order of the version key."""
    return sorted(items, key=lambda i: (i.get("collection") or "", version_sort_key(i["properties"]["version"])))


def link_versions(items: Sequence[dict]) -> list[dict]:
    """Copies of the items, in catalog order, with version links and `deprecated` set from all versions present.

    Existing version links are replaced, so linking twice gives the same result.
    """
    by_collection: dict[str, list[dict]] = defaultdict(list)
    for item in sort_items(items):
        if not item.get("collection"):
            raise ValueError(f"item {item.get('id')!r} has no collection; every catalog item belongs to its dataset's collection")
        by_collection[item["collection"]].append(copy.deepcopy(item))
    linked: list[dict] = []
    for collection_id, versions in by_collection.items():
        _refuse_duplicates(collection_id, versions)
        latest = versions[-1]
        for index, item in enumerate(versions):
            links = [l for l in item.get("links", []) if l.get("rel") not in VERSION_RELS]
            links.append(_version_link(item, "latest-version", latest))
            if index > 0:
                links.append(_version_link(item, "predecessor-version", versions[index - 1]))
            if index < len(versions) - 1:
                links.append(_version_link(item, "successor-version", versions[index + 1]))
            item["links"] = links
            item["properties"]["deprecated"] = item is not latest
            linked.append(item)
    return linked


def _refuse_duplicates(collection_id: str, versions: list[dict]) -> None:
    seen_versions: dict[tuple, str] = {}
    seen_ids: set[str] = set()
    for item in versions:
        version = item["properties"]["version"]
        key = version_sort_key(version)
        if key in seen_versions:
            raise ValueError(f"dataset {collection_id!r}: versions {seen_versions[key]!r} and {version!r} (items "
                             f"{item['id']!r}) have the same release order; each version must appear once")
        if item["id"] in seen_ids:
            raise ValueError(f"dataset {collection_id!r}: item id {item['id']!r} appears twice")
        seen_versions[key] = version
        seen_ids.add(item["id"])
