import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import libtorrent as lt
import pytest

from dfc_assets.torrent.feed import TORRENT_NS, FeedEntry, torrent_feed
from dfc_assets.torrent.metainfo import build_torrent
from dfc_assets.torrent.options import TorrentOptions

T0 = datetime(2025, 6, 11, 12, 0, tzinfo=timezone.utc)


@pytest.fixture()
def entries(tmp_path):
    out = []
    for i, version in enumerate(["2025-06-11", "2025-07-09"]):
        path = tmp_path / f"v{i}.parquet"
        path.write_bytes(bytes([i]) * 50_000)
        built = build_torrent(
            path, name=f"ds_{version}.parquet", options=TorrentOptions(), web_seeds=["http://127.0.0.1:1/r/"]
        )
        out.append(
            FeedEntry.for_torrent(
                built,
                title=f"ds {version} — Données & données",
                torrent_url=f"https://data.example/releases/ds/{version}/ds_{version}.parquet.torrent",
                published=T0 + timedelta(days=30 * i),
                link=f"https://doi.org/10.5281/zenodo.{100 + i}",
                category="ds",
            )
        )
    return out


def test_feed_is_rss2_with_torrent_enclosures_and_infohash_guids(entries):
    xml = torrent_feed(entries, title="Data for Canada torrents", link="https://data.example/", description="All versions")
    channel = ET.fromstring(xml).find("channel")
    assert ET.fromstring(xml).get("version") == "2.0"
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == [e.title for e in reversed(entries)]  # newest first
    for item, entry in zip(items, reversed(entries)):
        enclosure = item.find("enclosure")
        assert enclosure.get("type") == "application/x-bittorrent"
        assert enclosure.get("url") == entry.torrent_url and int(enclosure.get("length")) == entry.torrent_length
        guid = item.find("guid")
        assert guid.text == entry.infohash and guid.get("isPermaLink") == "false"
        assert parsedate_to_datetime(item.findtext("pubDate")) == entry.published
        magnet = item.findtext(f"{{{TORRENT_NS}}}magnetURI")
        assert str(lt.parse_magnet_uri(magnet).info_hashes.v1) == entry.infohash
        assert item.findtext(f"{{{TORRENT_NS}}}infoHash") == entry.infohash
    assert channel.findtext("ttl") == "60"


def test_feed_is_deterministic_and_order_independent(entries):
    kwargs = dict(title="t", link="https://x/", description="d")
    assert torrent_feed(entries, **kwargs) == torrent_feed(list(reversed(entries)), **kwargs)


def test_empty_feed_and_naive_dates():
    assert ET.fromstring(torrent_feed([], title="t", link="l", description="d")).find("channel/item") is None
    naive = FeedEntry("t", "u", 1, "ab" * 20, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        torrent_feed([naive], title="t", link="l", description="d")


def test_volunteer_reads_the_feed_back_and_chooses_within_a_budget(entries):
    from dfc_assets.torrent.follow import choose_within_budget, parse_feed

    xml = torrent_feed(entries, title="t", link="https://x/", description="d")
    parsed = parse_feed(xml)
    assert [(e.infohash, e.torrent_url, e.content_length, e.category) for e in parsed] == [
        (e.infohash, e.torrent_url, e.content_length, e.category) for e in reversed(entries)
    ]
    assert parsed[0].published == entries[1].published
    newest, older = parsed
    assert choose_within_budget(parsed, 10**9) == [newest, older]
    assert choose_within_budget(parsed, 10**9, latest_only=True) == [newest]
    assert choose_within_budget(parsed, newest.content_length) == [newest]
    assert choose_within_budget(parsed, newest.content_length - 1) == []
    assert choose_within_budget(parsed, 10**9, categories=["other"]) == []
    with pytest.raises(ValueError, match="not valid XML"):
        parse_feed(b"<rss")


def test_each_torrent_of_a_version_is_an_item_that_says_its_flavour_and_counts_every_file(tmp_path):
    from dfc_assets.torrent.feed import FLAVOUR_DOMAIN
    from dfc_assets.torrent.follow import parse_feed
    from dfc_assets.torrent.metainfo import build_version_torrents

    paths = [tmp_path / "ds_2025.parquet", tmp_path / "ds_2025.pmtiles"]
    for i, path in enumerate(paths):
        path.write_bytes(bytes([i + 1]) * (40_000 + i))
    built = build_version_torrents(paths, folder="2025", options=TorrentOptions(), web_seeds=["http://127.0.0.1:1/r/"])
    entries = [FeedEntry.for_torrent(t, title="ds 2025", torrent_url=f"https://data.example/{t.infohash_v1}.torrent",
                                     published=T0, category="ds") for t in (built.main, built.v1)]
    xml = torrent_feed(entries, title="t", link="https://x/", description="d")
    items = ET.fromstring(xml).findall("channel/item")
    assert sorted((i.findtext("guid"), [(c.get("domain"), c.text) for c in i.findall("category")]) for i in items) == sorted(
        [(built.main.infohash_v1, [(None, "ds"), (FLAVOUR_DOMAIN, "hybrid")]),
         (built.v1.infohash_v1, [(None, "ds"), (FLAVOUR_DOMAIN, "v1")])])
    parsed = {e.infohash: e for e in parse_feed(xml)}
    assert {e.flavour for e in parsed.values()} == {"hybrid", "v1"} and {e.category for e in parsed.values()} == {"ds"}
    assert {e.content_length for e in parsed.values()} == {80_001}  # both files, no pad bytes
