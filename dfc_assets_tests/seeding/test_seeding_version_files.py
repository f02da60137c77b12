"""Every torrent and every file of a version, as the item, the feeds and a volunteer see them: the feeds list the
v1 torrent beside the hybrid (its magnet downloads through the embedded seeder); a two-file version costs the bytes
of both files in a volunteer's budget, read from the catalog or from a feed, and the volunteer seeds both swarms
from its one copy."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

import httpx
import libtorrent as lt
import pytest

from dfc_assets.publication.published import Published as PublishedState
from dfc_assets.seeding import Selection, VolunteerSeeder, offers_from_catalog, read_offers
from dfc_assets.storage import TORRENT_FEED, dataset_feed
from dfc_assets.torrent.download import download_magnet
from dfc_assets.torrent.feed import FLAVOUR_DOMAIN, TORRENT_NS
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.follow import parse_feed
from dfc_assets.torrent.metainfo import read_torrent
from dfc_assets.torrent.seeder import Seeder

from dataclasses import replace

from .conftest import BOUNDARY, TABLE, wait_for

VERSIONS = ((BOUNDARY, "2022-02-09"), (TABLE, "2025-06-11"))


def state(published):
    return PublishedState(published.store).version


def version_bytes(published, spec, version) -> int:
    return sum(f.size for f in state(published)(spec.id, version).files)


def feed_items(published, key: str) -> list[ET.Element]:
    return ET.fromstring(published.store.get_bytes(key)).findall("./channel/item")


def flavour(item: ET.Element) -> str | None:
    return next((c.text for c in item.findall("category") if c.get("domain") == FLAVOUR_DOMAIN), None)


@pytest.mark.parametrize("feed", ["global", "dataset"])
def test_every_feed_lists_both_torrents_of_every_version(published, feed):
    for spec, version in VERSIONS:
        items = feed_items(published, TORRENT_FEED if feed == "global" else dataset_feed(spec.id))
        v = state(published)(spec.id, version)
        torrents = {"hybrid": v.torrent, "v1": v.torrent_v1}
        mine = [i for i in items if i.find("enclosure").get("url") in {published.store.public_url(t.key) for t in torrents.values()}]
        assert sorted(flavour(i) for i in mine) == ["hybrid", "v1"], (spec.key, feed)
        for item in mine:
            torrent = torrents[flavour(item)]
            info = read_torrent(torrent.data)
            assert item.findtext("guid") == item.findtext(f"{{{TORRENT_NS}}}infoHash") == info.infohash_v1
            assert int(item.find("enclosure").get("length")) == len(torrent.data)
            assert [c.text for c in item.findall("category") if c.get("domain") is None] == [spec.id]
            assert int(item.findtext(f"{{{TORRENT_NS}}}contentLength")) == info.data_size == version_bytes(published, spec, version)
            magnet = lt.parse_magnet_uri(item.findtext(f"{{{TORRENT_NS}}}magnetURI"))
            assert str(magnet.info_hashes.v1) == info.infohash_v1
            assert magnet.info_hashes.has_v2() == (flavour(item) == "hybrid")
            assert sorted(magnet.url_seeds) == sorted(info.web_seeds)
        (v1_item,) = [i for i in mine if flavour(i) == "v1"]
        assert v1_item.findtext("title").endswith("(BitTorrent v1)")


def test_the_v1_magnet_of_the_feed_downloads_through_the_embedded_seeder(published, tmp_path):
    entries = parse_feed(published.store.get_bytes(dataset_feed(BOUNDARY.id)))
    v1 = state(published)(BOUNDARY.id, "2022-02-09").torrent_v1
    (entry,) = [e for e in entries if e.torrent_url == published.store.public_url(v1.key)]
    assert entry.flavour == "v1" and f"x.pe={published.urls.seeder_peer}" in entry.magnet
    # the embedded seeder finds new torrents by polling the store; a peer it turns away waits 60 s to retry
    wait_for(lambda: read_torrent(v1.data).infohash_v1 in published.services.seeder.infrastructure.seeding, 30,
             "the embedded seeder to seed the v1 torrent")
    got = download_magnet(entry.magnet, tmp_path / "client", listen="127.0.0.8:0", timeout=60)
    for f in state(published)(BOUNDARY.id, "2022-02-09").files:
        assert hashlib.sha256((got / f.name).read_bytes()).hexdigest() == f.sha256


@pytest.mark.parametrize("source", ["catalog", "feed"])
def test_an_offer_costs_every_file_of_its_version(published, source):
    with httpx.Client() as http:
        offers = offers_from_catalog(published.catalog_url) if source == "catalog" else read_offers(published.feed_url, http)
    by_version = {(o.dataset_id, o.version): o for o in offers}
    assert len(by_version) == len(offers), "one offer per version (its main torrent), not one per torrent"
    for spec, version in VERSIONS:
        offer = by_version[(spec.id, version)]
        assert offer.size == version_bytes(published, spec, version)
        assert offer.infohash_v1 == published.infohash(spec, version)
        v1 = state(published)(spec.id, version).torrent_v1
        assert (offer.v1_torrent_url, offer.v1_infohash) == (published.store.public_url(v1.key), read_torrent(v1.data).infohash_v1)
    assert len(state(published)(BOUNDARY.id, "2022-02-09").files) == 2


def test_a_budget_that_holds_only_the_main_file_of_a_two_file_version_seeds_nothing(published, tmp_path):
    files = state(published)(BOUNDARY.id, "2022-02-09").files
    only_boundary = (BOUNDARY.id,)
    with httpx.Client() as http, Seeder("127.0.0.9:0", discovery=False) as seeder:
        too_small = Selection(datasets=only_boundary, latest_only=True, budget_bytes=sum(f.size for f in files) - 1)
        assert files[0].size <= too_small.budget_bytes
        result = VolunteerSeeder(published.feed_url, seeder, too_small, data_dir=tmp_path / "small", http=http,
                                 log=lambda line: None).sync()
        assert result.chosen == [] and seeder.status() == []
        enough = Selection(datasets=only_boundary, latest_only=True, budget_bytes=sum(f.size for f in files))
        result = VolunteerSeeder(published.catalog_url, seeder, enough, data_dir=tmp_path / "enough", http=http,
                                 log=lambda line: None).sync()
        assert [(o.version, o.size) for o in result.chosen] == [("2022-02-09", sum(f.size for f in files))]
    on_disk = sum(p.stat().st_size for p in (tmp_path / "enough").rglob("*") if p.is_file() and p.suffix != ".torrent")
    assert on_disk == sum(f.size for f in files)


def test_the_item_of_every_version_lists_both_torrents_and_every_file(published):
    for spec, version in VERSIONS:
        v = state(published)(spec.id, version)
        assets = v.item["assets"]
        for key, torrent in (("torrent", v.torrent), ("torrent-v1", v.torrent_v1)):
            info = read_torrent(torrent.data)
            assert assets[key]["href"] == published.store.public_url(torrent.key), (spec.key, key)
            assert assets[key]["file:size"] == len(torrent.data)
            assert assets[key]["file:checksum"] == "1220" + hashlib.sha256(torrent.data).hexdigest()
            assert assets[key]["dfc:infohash_v1"] == info.infohash_v1
            assert assets[key].get("dfc:infohash_v2") == info.infohash_v2
            assert sorted(f.file_name for f in info.data_files) == sorted(f.name for f in v.files)
        listed = {assets[k]["title"]: assets[k] for k in ("data", "tiles", "documentation") if k in assets}
        assert sorted(listed) == sorted(f.name for f in v.files), spec.key
        for f in v.files:
            asset = listed[f.name]
            assert (asset["file:size"], asset["file:checksum"], asset["type"]) == (f.size, "1220" + f.sha256, f.media_type)
            assert f.role in asset["roles"] and asset["href"] == v.zenodo_file(f.name).url


@pytest.mark.parametrize("source", ["catalog", "feed"])
def test_a_volunteer_seeds_both_swarms_of_a_version_from_one_copy(published, tmp_path, source):
    v = state(published)(BOUNDARY.id, "2022-02-09")
    url = published.catalog_url if source == "catalog" else published.feed_url
    selection = Selection(datasets=(BOUNDARY.id,), latest_only=True)
    listen, client = {"catalog": ("127.0.0.10:0", "127.0.1.10:0"), "feed": ("127.0.0.11:0", "127.0.1.11:0")}[source]
    with httpx.Client() as http, Seeder(listen, discovery=False) as seeder:
        result = VolunteerSeeder(url, seeder, selection, data_dir=tmp_path / "volunteer", http=http, log=lambda line: None).sync()
        assert result.failed == {} and [o.version for o in result.added] == ["2022-02-09"]
        v1_info = read_torrent(v.torrent_v1.data)
        assert {s.infohash_v1 for s in seeder.status()} == {read_torrent(v.torrent.data).infohash_v1, v1_info.infohash_v1}
        only_the_volunteer = magnet_uri(replace(v1_info, web_seeds=(), trackers=()), peer=seeder.peer)
        got = download_magnet(only_the_volunteer, tmp_path / "client", listen=client, timeout=60)
    for f in v.files:
        assert hashlib.sha256((got / f.name).read_bytes()).hexdigest() == f.sha256
    on_disk = [p for p in (tmp_path / "volunteer").rglob("*") if p.is_file() and p.suffix != ".torrent"]
    assert sorted(p.name for p in on_disk) == sorted(f.name for f in v.files), "one copy of the files for both torrents"
