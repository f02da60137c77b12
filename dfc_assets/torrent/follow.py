"""Volunteer seeding: read a torrent RSS feed and choose what to seed within a disk budget."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from email.utils import parsedate_to_datetime

from .feed import FLAVOUR_DOMAIN, TORRENT_MIME, TORRENT_NS, FeedEntry


def parse_feed(xml: bytes) -> list[FeedEntry]:
    """Entries of a BEP 36-style RSS 2.0 feed (ours or another publisher's); items without a torrent are skipped."""
    try:
        channel = ET.fromstring(xml).find("channel")
    except ET.ParseError as exc:
        raise ValueError(f"torrent feed is not valid XML: {exc}") from None
    if channel is None:
        raise ValueError("torrent feed has no RSS <channel>")
    entries = []
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        if enclosure is None or enclosure.get("type") != TORRENT_MIME:
            continue
        infohash = item.findtext(f"{{{TORRENT_NS}}}infoHash") or item.findtext("guid")
        published = item.findtext("pubDate")
        if not infohash or not published:
            continue
        length = item.findtext(f"{{{TORRENT_NS}}}contentLength")
        categories = {c.get("domain"): (c.text or "").strip() for c in reversed(item.findall("category"))}
        entries.append(
            FeedEntry(
                title=item.findtext("title") or "",
                torrent_url=enclosure.get("url", ""),
                torrent_length=int(enclosure.get("length") or 0),
                infohash=infohash.strip().lower(),
                published=parsedate_to_datetime(published),
                name=item.findtext(f"{{{TORRENT_NS}}}fileName"),
                content_length=int(length) if length else None,
                magnet=item.findtext(f"{{{TORRENT_NS}}}magnetURI"),
                link=item.findtext("link"),
                description=item.findtext("description"),
                category=categories.get(None),
                flavour=categories.get(FLAVOUR_DOMAIN),
            )
        )
    return entries


def choose_within_budget(
    entries: Iterable[FeedEntry],
    budget_bytes: int,
    *,
    categories: Sequence[str] | None = None,
    latest_only: bool = False,
) -> list[FeedEntry]:
    """Newest versions first, of the chosen categories (datasets), while their sizes fit in `budget_bytes`.

    Entries without a known size are skipped (they cannot be budgeted). latest_only keeps one version per dataset.
    """
    chosen: list[FeedEntry] = []
    seen_categories: set[str | None] = set()
    used = 0
    for e in sorted(entries, key=lambda e: (e.published, e.infohash), reverse=True):
        if categories is not None and e.category not in categories:
            continue
        if latest_only and e.category in seen_categories:
            continue
        if e.content_length is None or used + e.content_length > budget_bytes:
            continue
        chosen.append(e)
        seen_categories.add(e.category)
        used += e.content_length
    return chosen
