"""Published versions one could seed ("offers"), read from the object store, the STAC catalog or a torrent feed."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import httpx

from dfc_assets.catalog.item import FILE_ASSET_KEYS
from dfc_assets.catalog.query import run as query_catalog
from dfc_assets.publication.published import Published
from dfc_assets.storage import ObjectStore
from dfc_assets.torrent.follow import parse_feed
from dfc_assets.torrent.metainfo import read_torrent
from dfc_assets.versions import VERSION_KEY_PATTERN

VERSION_BYTES = " + ".join(f'COALESCE(assets."{key}"."file:size", 0)' for key in FILE_ASSET_KEYS)
CATALOG_OFFERS = f"""
SELECT collection AS dataset_id, version, assets.data.title AS file_name, {VERSION_BYTES} AS size,
       assets.torrent."dfc:infohash_v1" AS infohash_v1, assets.torrent.href AS torrent_url, published,
       assets."torrent-v1".href AS v1_torrent_url, assets."torrent-v1"."dfc:infohash_v1" AS v1_infohash
FROM catalog WHERE assets.torrent.href IS NOT NULL
ORDER BY file_row_number
"""
"""One offer per version: its main torrent and its v1 torrent; `size` counts every file of the version once
(see catalog.item.version_bytes): both torrents are seeded from the same files."""


@dataclass(frozen=True)
class Offer:
    """One published version (all its files, `size` bytes in all) and where its .torrent is."""

    dataset_id: str
    version: str
    file_name: str
    size: int
    infohash_v1: str
    torrent_url: str | None = None     # an http(s) URL (catalog, feed) ...
    torrent_key: str | None = None     # ... or an object-store key
    published: datetime | None = None
    v1_torrent_url: str | None = None  # the v1 torrent of the same files (its own swarm), when the listing names it
    v1_infohash: str | None = None

    @property
    def label(self) -> str:
        return f"{self.dataset_id} version {self.version}"

    @property
    def v1(self) -> "Offer | None":
        """The same version by its v1 torrent (to fetch and seed it beside the main one), or None."""
        if not self.v1_torrent_url:
            return None
        return replace(self, torrent_url=self.v1_torrent_url, torrent_key=None, infohash_v1=self.v1_infohash or "",
                       v1_torrent_url=None, v1_infohash=None)


def offers_from_store(store: ObjectStore, known: dict[str, Offer] | None = None) -> list[Offer]:
    """Every torrent of every version under releases/ (main and v1: two swarms), written after the Zenodo publication.

    `known` maps torrent keys to offers already read: torrents are write-once, so a poll reads only new ones.
    """
    offers = []
    for release in Published(store).torrent_keys(v1=None):
        key = release.keys.release_file(release.name)
        if known is not None and key in known:
            offers.append(known[key])
            continue
        torrent = read_torrent(store.get_bytes(key))
        offer = Offer(release.dataset_id, release.version, torrent.name, torrent.data_size, torrent.infohash_v1 or "",
                      torrent_url=store.public_url(key), torrent_key=key)
        if known is not None:
            known[key] = offer
        offers.append(offer)
    return offers


def offers_from_catalog(source: str | Path) -> list[Offer]:
    """Every version in the STAC GeoParquet catalog (a path or URL; over HTTP only the needed columns are read)."""
    return [
        Offer(row["dataset_id"], row["version"], row["file_name"], int(row["size"]), row["infohash_v1"],
              torrent_url=row["torrent_url"], published=row["published"], v1_torrent_url=row["v1_torrent_url"],
              v1_infohash=row["v1_infohash"])
        for row in query_catalog(source, CATALOG_OFFERS)
    ]


def _version_from_file_name(dataset_id: str, file_name: str) -> str:
    """Our files are named {dataset_id}_{version}.{extension}; another publisher's feed gets the file name."""
    prefix = f"{dataset_id}_"
    if file_name.startswith(prefix) and "." in file_name:
        version = file_name[len(prefix):].rsplit(".", 1)[0]
        if VERSION_KEY_PATTERN.match(version):
            return version
    return file_name


def offers_from_feed(xml: bytes) -> list[Offer]:
    """Every version in a BEP 36-style torrent RSS feed (ours: category = dataset id). Our feeds list a version
    twice, by its main torrent and by its v1 one (flavour v1): one offer holds both. Items without a size are skipped."""
    entries = [entry for entry in parse_feed(xml) if entry.content_length is not None and entry.torrent_url]
    v1_of = {(e.category, e.name): e for e in entries if e.flavour == "v1"}
    with_main = {(e.category, e.name) for e in entries if e.flavour != "v1"}
    offers = []
    for entry in entries:
        if entry.flavour == "v1" and (entry.category, entry.name) in with_main:
            continue
        v1 = v1_of.get((entry.category, entry.name)) if entry.flavour != "v1" else None
        dataset_id = entry.category or entry.title
        file_name = entry.name or entry.title
        offers.append(Offer(dataset_id, _version_from_file_name(dataset_id, file_name), file_name, entry.content_length,  # type: ignore[arg-type]
                            entry.infohash, torrent_url=entry.torrent_url, published=entry.published,
                            v1_torrent_url=v1.torrent_url if v1 else None, v1_infohash=v1.infohash if v1 else None))
    return offers


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


FETCH_DEADLINE = 120.0  # seconds for a whole feed or .torrent: a server that trickles bytes does not stall a poll


def fetch_bytes(http: httpx.Client | None, url: str, what: str, *, deadline: float = FETCH_DEADLINE) -> bytes:
    """GET `url` (redirects followed) within an overall deadline; OSError naming `what` on failure."""
    give_up = time.monotonic() + deadline
    body = bytearray()
    client = http or httpx.Client(timeout=30)
    try:
        with client.stream("GET", url, follow_redirects=True, timeout=min(30.0, deadline)) as response:
            if response.status_code != 200:
                raise OSError(f"{what} {url} answered HTTP {response.status_code}")
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > give_up:
                    raise OSError(f"{what} {url} did not arrive within {deadline:g} s ({len(body)} bytes so far)")
    except httpx.HTTPError as error:
        raise OSError(f"{what} {url}: {type(error).__name__}: {error}") from None
    finally:
        if http is None:
            client.close()
    return bytes(body)


def read_offers(source: str, http: httpx.Client) -> list[Offer]:
    """Offers from a catalog (.parquet) or a torrent feed (anything else), given as a URL or a local path."""
    if source.split("?", 1)[0].endswith(".parquet"):
        return offers_from_catalog(source)
    if _is_url(source):
        return offers_from_feed(fetch_bytes(http, source, "torrent feed (e.g. {bucket}/feeds/torrents.xml)"))
    return offers_from_feed(Path(source).read_bytes())


def fetch_torrent(offer: Offer, *, http: httpx.Client | None = None, store: ObjectStore | None = None) -> bytes:
    """The offer's .torrent bytes, checked against the info-hash the catalog or feed announced."""
    if offer.torrent_key is not None and store is not None:
        data = store.get_bytes(offer.torrent_key)
    elif offer.torrent_url and _is_url(offer.torrent_url):
        data = fetch_bytes(http, offer.torrent_url, f"{offer.label}: .torrent")
    elif offer.torrent_url:
        data = Path(offer.torrent_url).read_bytes()
    else:
        raise ValueError(f"{offer.label}: no .torrent URL or key")
    info = read_torrent(data)
    if offer.infohash_v1 and info.infohash_v1 and info.infohash_v1 != offer.infohash_v1.lower():
        raise ValueError(f"{offer.label}: .torrent {offer.torrent_url or offer.torrent_key} has info-hash {info.infohash_v1}, "
                         f"the listing announced {offer.infohash_v1}; the listing and the torrent disagree, not seeding it")
    return data
