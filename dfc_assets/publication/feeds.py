"""Asset `catalog/torrent_feed`: BEP 36-style RSS feeds of the published torrents, rendered from catalog rows.

`feeds/{dataset id}.xml` lists every version of one dataset; `feeds/torrents.xml` lists the newest
GLOBAL_FEED_ENTRIES versions of all datasets. A version is one item per torrent: the main (hybrid) one and, once
published, the v1 one of the same files (for Transmission 3 and aria2), told apart by their flavour category. A catalog update (`publication.catalog.build_catalog`) rewrites the
feeds of the datasets that changed and the global feed, when their bytes change; `build_feeds` reports them, or
rewrites every feed from the published catalog (a repair, not needed in normal operation). A dataset gets its feed
with its first version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

from dfc_assets.catalog.conventions import parse_datetime
from dfc_assets.catalog.geoparquet import table_to_items
from dfc_assets.catalog.item import version_bytes
from dfc_assets.catalog.merge import collection_runs
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA
from dfc_assets.publication.context import Publisher
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import ObjectStore, TORRENT_FEED, dataset_feed
from dfc_assets.torrent.feed import FeedEntry, torrent_feed
from dfc_assets.torrent.magnet import sibling_magnet

GLOBAL_FEED_ENTRIES = 500
"""The global feed holds the newest 500 versions (about 500 KB): more than a busy StatCan morning (a few hundred
tables), so a seeder's RSS rule polling hourly (the feed's ttl) or even daily misses nothing; every version stays in
its dataset's feed. The whole history in one feed would be 100 MB at 100,000 versions, downloaded on every poll."""


@dataclass(frozen=True)
class PublishedFeeds:
    all_key: str
    dataset_keys: dict[str, str]
    entries: int


def feed_entries(item: dict) -> list[FeedEntry]:
    """The feed items of one version: its main torrent, then its v1 torrent when the item lists one."""
    properties, assets = item["properties"], item["assets"]
    torrent, data, v1 = assets["torrent"], assets["data"], assets.get("torrent-v1")
    size = version_bytes(item)
    magnet = data.get("alternate", {}).get("magnet", {}).get("href")
    main = FeedEntry(
        title=f"{properties.get('title', item['id'])}",
        torrent_url=torrent["href"],
        torrent_length=int(torrent["file:size"]),
        infohash=torrent["dfc:infohash_v1"],
        published=parse_datetime(properties["published"]),
        name=data["href"].rsplit("/", 1)[-1],
        content_length=size,
        magnet=magnet,
        link=f"https://doi.org/{properties['sci:doi']}" if properties.get("sci:doi") else None,
        description=properties.get("description"),
        category=item.get("collection"),
        flavour="hybrid" if torrent.get("dfc:infohash_v2") else "v1",
    )
    if not v1:
        return [main]
    return [main, replace(
        main, title=f"{main.title} (BitTorrent v1)", torrent_url=v1["href"], torrent_length=int(v1["file:size"]),
        infohash=v1["dfc:infohash_v1"], flavour="v1",
        magnet=sibling_magnet(magnet, infohash_v1=v1["dfc:infohash_v1"], size=size, torrent_url=v1["href"]) if magnet else None,
    )]


def _entries(items: Sequence[dict]) -> list[FeedEntry]:
    return [entry for item in items for entry in feed_entries(item)]


def dataset_feed_bytes(store: ObjectStore, collection: dict, items: Sequence[dict]) -> bytes:
    """Every version of one dataset; titled from its collection (the spec's English title)."""
    key = dataset_feed(collection["id"])
    return torrent_feed(
        _entries(items), title=f"Data for Canada: {collection.get('title')}", link=store.public_url(key),
        description=f"New versions of {collection['id']} as torrents (web-seeded by Zenodo and Data for Canada).",
        self_url=store.public_url(key),
    )


def newest_rows(table: pa.Table, count: int | None = None) -> pa.Table:
    """The rows the global feed lists (GLOBAL_FEED_ENTRIES unless `count`): newest `published` first, ties by v1
    info-hash (the feed's own order), read from two columns without turning the other rows into items."""
    count = GLOBAL_FEED_ENTRIES if count is None else count
    if not len(table):
        return table
    infohash = pc.struct_field(pc.struct_field(table.column("assets"), "torrent"), "dfc:infohash_v1")
    keys = pa.table({"published": table.column("published"), "infohash": infohash})
    order = pc.sort_indices(keys, sort_keys=[("published", "descending"), ("infohash", "descending")])
    return table.take(order[:count])


def global_feed_bytes(store: ObjectStore, table: pa.Table) -> bytes:
    return torrent_feed(
        _entries(table_to_items(newest_rows(table))),
        title="Data for Canada: the newest dataset versions", link=store.public_url(TORRENT_FEED),
        description=(f"The newest {GLOBAL_FEED_ENTRIES} published dataset versions as torrents (BEP 36 style; guid = v1 "
                     "info-hash); every version of a dataset is in its own feed, feeds/{dataset id}.xml."),
        self_url=store.public_url(TORRENT_FEED),
    )


def build_feeds(publisher: Publisher, specs: Sequence[DatasetSpec], *, rewrite: bool = False) -> PublishedFeeds:
    """The feeds of the published catalog. Every catalog update writes the feeds that changed before it names its
    build in the head, so the feeds are current whenever a head exists: this reads only the head (one GET).
    `rewrite=True` (a repair), or no catalog yet, rewrites every feed from the published catalog, under the
    catalog's writer lease so that it never interleaves with an update."""
    from dfc_assets.publication.catalog import CATALOG_HEAD, CATALOG_LOCK, published_state
    from dfc_assets.publication.writer_lock import writer_lock

    head = publisher.read_json(CATALOG_HEAD)
    if head is not None and not rewrite:
        counts = head.get("counts", {})
        written = {spec.key: dataset_feed(spec.id) for spec in specs if counts.get(spec.id)}
        entries = min(head["rows"], GLOBAL_FEED_ENTRIES)
        publisher.log(f"feeds: current with catalog build {head['build_key']} ({entries} torrents in {TORRENT_FEED}, "
                      f"{len(written)} dataset feeds)")
        return PublishedFeeds(TORRENT_FEED, written, entries)
    with writer_lock(publisher.store, CATALOG_LOCK, what="feeds", log=publisher.log):
        state = published_state(publisher)
        written = {}
        table = state.table if state is not None else CATALOG_SCHEMA.empty_table()
        runs = collection_runs(table)
        for spec in specs:
            if state is not None and spec.id in runs and spec.id in state.collections:
                items = table_to_items(table.slice(*runs[spec.id]))
                publisher.store.put_bytes(dataset_feed(spec.id), dataset_feed_bytes(publisher.store, state.collections[spec.id], items))
                written[spec.key] = dataset_feed(spec.id)
        publisher.store.put_bytes(TORRENT_FEED, global_feed_bytes(publisher.store, table))
    entries = len(newest_rows(table))
    publisher.log(f"feeds: {entries} torrents in {TORRENT_FEED} and {len(written)} dataset feeds rewritten")
    return PublishedFeeds(TORRENT_FEED, written, entries)
