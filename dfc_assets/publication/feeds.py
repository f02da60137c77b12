"""Asset `catalog/torrent_feed`: BEP 36-style RSS feeds of every published torrent, one per dataset and one for all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dfc_assets.catalog.conventions import parse_datetime
from dfc_assets.publication.catalog import published_items
from dfc_assets.publication.context import Publisher
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import TORRENT_FEED, dataset_feed
from dfc_assets.torrent.feed import FeedEntry, torrent_feed


@dataclass(frozen=True)
class PublishedFeeds:
    all_key: str
    dataset_keys: dict[str, str]
    entries: int


def feed_entry(item: dict) -> FeedEntry:
    properties, torrent, data = item["properties"], item["assets"]["torrent"], item["assets"]["data"]
    return FeedEntry(
        title=f"{properties.get('title', item['id'])}",
        torrent_url=torrent["href"],
        torrent_length=int(torrent["file:size"]),
        infohash=torrent["dfc:infohash_v1"],
        published=parse_datetime(properties["published"]),
        name=data["href"].rsplit("/", 1)[-1],
        content_length=int(data["file:size"]),
        magnet=data.get("alternate", {}).get("magnet", {}).get("href"),
        link=f"https://doi.org/{properties['sci:doi']}" if properties.get("sci:doi") else None,
        description=properties.get("description"),
        category=item.get("collection"),
    )


def build_feeds(publisher: Publisher, specs: Sequence[DatasetSpec]) -> PublishedFeeds:
    everything: list[FeedEntry] = []
    written: dict[str, str] = {}
    for spec in specs:
        entries = [feed_entry(item) for item in published_items(publisher, spec)]
        everything += entries
        key = dataset_feed(spec.id)
        publisher.store.put_bytes(key, torrent_feed(
            entries, title=f"Data for Canada: {spec.title.en}", link=publisher.store.public_url(key),
            description=f"New versions of {spec.id} as torrents (web-seeded by Zenodo and Data for Canada).",
            self_url=publisher.store.public_url(key),
        ))
        written[spec.key] = key
    publisher.store.put_bytes(TORRENT_FEED, torrent_feed(
        everything, title="Data for Canada: every dataset version", link=publisher.store.public_url(TORRENT_FEED),
        description="Every published dataset version as a torrent (BEP 36 style; guid = v1 info-hash).",
        self_url=publisher.store.public_url(TORRENT_FEED),
    ))
    publisher.log(f"feeds: {len(everything)} torrents in {TORRENT_FEED} and {len(written)} dataset feeds")
    return PublishedFeeds(TORRENT_FEED, written, len(everything))
