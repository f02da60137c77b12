"""Version relations between the items of each collection: predecessor, successor, latest, deprecated."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dfc_assets.catalog.conventions import COLLECTION_FILE, GEOJSON_MEDIA_TYPE
from dfc_assets.versions import version_sort_key

VERSION_RELS = ("latest-version", "predecessor-version", "successor-version")


def _folder(item: dict) -> str:
    """Items sit next to their collection JSON, so siblings share the folder of the collection href."""
    collection_link = next((l for l in item.get("links", []) if l.get("rel") == "collection"), None)
    if collection_link is None:
        raise ValueError(f"item {item.get('id')!r} has no 'collection' link, so its versions cannot be linked")
    href = collection_link["href"]
    return href[: -len(COLLECTION_FILE)] if href.endswith(COLLECTION_FILE) else href.rstrip("/") + "/"


def sibling_href(item: dict, other_id: str) -> str:
    return f"{_folder(item)}{other_id}.json"


def sort_items(items: Sequence[dict]) -> list[dict]:
    """Catalog order: collection, then release order of the version key."""
    return sorted(items, key=lambda i: (i.get("collection") or "", version_sort_key(i["properties"]["version"])))


def link_versions(items: Sequence[dict]) -> list[dict]:
    """New item dicts, in catalog order, with version links and `deprecated` set from all versions present.

    The inputs are not modified; nested objects other than `properties` and `links` are shared with them.

    Existing version links are replaced, so linking twice gives the same result.
    """
    by_collection: dict[str, list[dict]] = defaultdict(list)
    for item in sort_items(items):
        if not item.get("collection"):
            raise ValueError(f"item {item.get('id')!r} has no collection; every catalog item belongs to its dataset's collection")
        # Only properties and links change: copy those, share the rest (nothing here mutates it).
        by_collection[item["collection"]].append({**item, "properties": dict(item["properties"]), "links": list(item.get("links", []))})
    linked: list[dict] = []
    for collection_id, versions in by_collection.items():
        _refuse_duplicates(collection_id, versions)
        latest = versions[-1]
        titles = [f"version {v['properties']['version']}" for v in versions]
        for index, item in enumerate(versions):
            folder = _folder(item)

            def link(rel: str, target: int) -> dict:
                return {"rel": rel, "href": f"{folder}{versions[target]['id']}.json", "type": GEOJSON_MEDIA_TYPE, "title": titles[target]}

            links = [l for l in item["links"] if l.get("rel") not in VERSION_RELS]
            links.append(link("latest-version", len(versions) - 1))
            if index > 0:
                links.append(link("predecessor-version", index - 1))
            if index < len(versions) - 1:
                links.append(link("successor-version", index + 1))
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
