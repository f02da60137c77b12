"""Announcements of newly published STAC items, so a catalog update reads only what was published since the last one.

The `stac_item` step announces every item it has written (`announce_item`, after the item exists, also when a retry
finds the item already written). A catalog update lists the small inbox prefix, not all of `releases/`, and deletes
the announcements it read only after the catalog that holds their rows has replaced the old one, so an item
announced while an update runs stays for the next. An announcement lost to a crash between the item and its
announcement is picked up by the next full rebuild (which reads every item).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from dfc_assets.storage import ObjectStore, VersionKeys

CATALOG_INBOX_PREFIX = "state/catalog/inbox/"


@dataclass(frozen=True)
class Announcement:
    key: str          # the announcement's own key, deleted once consumed
    dataset_id: str
    version: str

    @property
    def item_key(self) -> str:
        return VersionKeys(self.dataset_id, self.version).stac_item


def announcement_key(dataset_id: str, version: str) -> str:
    return f"{CATALOG_INBOX_PREFIX}{dataset_id}/{version}.json"


def announce_item(store: ObjectStore, dataset_id: str, version: str) -> str:
    """Idempotent: announcing the same version twice leaves one announcement."""
    key = announcement_key(dataset_id, version)
    store.put_bytes(key, json.dumps({"dataset_id": dataset_id, "version": version, "item": VersionKeys(dataset_id, version).stac_item}).encode())
    return key


def announced(store: ObjectStore) -> list[Announcement]:
    """Every announcement waiting, from one LIST of the inbox prefix (its keys say dataset and version)."""
    found = []
    for info in store.list(CATALOG_INBOX_PREFIX):
        rest = info.key[len(CATALOG_INBOX_PREFIX):]
        dataset_id, _, name = rest.partition("/")
        if not name.endswith(".json") or "/" in name:
            continue
        found.append(Announcement(info.key, dataset_id, name[: -len(".json")]))
    return found


def consume(store: ObjectStore, announcements: list[Announcement]) -> None:
    for announcement in announcements:
        store.delete(announcement.key)
