"""A BEP 36-style torrent RSS 2.0 feed, so community seeders (e.g. a qBittorrent RSS rule) follow new versions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from .magnet import magnet_uri
from .metainfo import BuiltTorrent

TORRENT_MIME = "application/x-bittorrent"
TORRENT_NS = "http://xmlns.ezrss.it/0.1/"  # de-facto torrent namespace (infoHash, contentLength, magnetURI)
ATOM_NS = "http://www.w3.org/2005/Atom"
FLAVOUR_DOMAIN = "bittorrent-flavour"
"""An item's second <category>, in this taxonomy: `hybrid` (v1+v2) or `v1`. A version has one item per torrent, so
a Transmission 3 or aria2 user (who cannot use the hybrid) follows the `v1` items, everyone else the `hybrid` ones."""


@dataclass(frozen=True)
class FeedEntry:
    title: str
    torrent_url: str               # the .torrent file (the enclosure)
    torrent_length: int            # size of the .torrent in bytes
    infohash: str                  # v1 hex; the item's guid, so items match across feeds
    published: datetime            # timezone-aware
    name: str | None = None        # file name inside the torrent
    content_length: int | None = None
    magnet: str | None = None
    link: str | None = None        # landing page, e.g. the version's DOI
    description: str | None = None
    category: str | None = None    # e.g. the dataset id
    flavour: str | None = None     # FLAVOUR_DOMAIN: "hybrid" or "v1"; None in feeds that do not say

    @classmethod
    def for_torrent(
        cls,
        t: BuiltTorrent,
        *,
        title: str,
        torrent_url: str,
        published: datetime,
        link: str | None = None,
        description: str | None = None,
        category: str | None = None,
        peer: str | None = None,
    ) -> "FeedEntry":
        return cls(
            title=title,
            torrent_url=torrent_url,
            torrent_length=len(t.data),
            infohash=t.infohash_v1,
            published=published,
            name=t.name,
            content_length=t.data_size,
            magnet=magnet_uri(t, torrent_url=torrent_url, peer=peer),
            link=link,
            description=description,
            category=category,
            flavour="hybrid" if t.infohash_v2 else "v1",
        )


def _text(parent: ET.Element, tag: str, text: str | None, **attrs: str) -> None:
    if text is not None:
        ET.SubElement(parent, tag, attrs).text = text


def torrent_feed(
    entries: Iterable[FeedEntry],
    *,
    title: str,
    link: str,
    description: str,
    self_url: str | None = None,
    ttl_minutes: int = 60,
    language: str = "en-CA",
) -> bytes:
    """RSS 2.0 bytes, newest item first; the same entries always give the same bytes."""
    items = sorted(entries, key=lambda e: (e.published, e.infohash), reverse=True)
    for e in items:
        if e.published.tzinfo is None:
            raise ValueError(f"feed entry {e.title!r}: published must be timezone-aware")
    ET.register_namespace("torrent", TORRENT_NS)
    ET.register_namespace("atom", ATOM_NS)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", title)
    _text(channel, "link", link)
    _text(channel, "description", description)
    _text(channel, "language", language)
    if self_url:
        ET.SubElement(channel, f"{{{ATOM_NS}}}link", {"href": self_url, "rel": "self", "type": "application/rss+xml"})
    _text(channel, "ttl", str(ttl_minutes))
    if items:
        _text(channel, "lastBuildDate", format_datetime(items[0].published))
    for e in items:
        item = ET.SubElement(channel, "item")
        _text(item, "title", e.title)
        _text(item, "link", e.link or e.torrent_url)
        _text(item, "description", e.description)
        _text(item, "category", e.category)
        _text(item, "category", e.flavour, domain=FLAVOUR_DOMAIN)
        _text(item, "guid", e.infohash, isPermaLink="false")
        _text(item, "pubDate", format_datetime(e.published))
        ET.SubElement(item, "enclosure", {"url": e.torrent_url, "length": str(e.torrent_length), "type": TORRENT_MIME})
        _text(item, f"{{{TORRENT_NS}}}infoHash", e.infohash)
        _text(item, f"{{{TORRENT_NS}}}fileName", e.name)
        _text(item, f"{{{TORRENT_NS}}}contentLength", None if e.content_length is None else str(e.content_length))
        _text(item, f"{{{TORRENT_NS}}}magnetURI", e.magnet)
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"
