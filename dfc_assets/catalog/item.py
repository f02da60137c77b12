"""The STAC item of one published dataset version (one row of the catalog)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import shapely
import shapely.geometry

from dfc_assets.catalog import conventions as c

MAX_MIRRORS = 5
"""Mirror alternates are named `mirror-1` … `mirror-5`: alternate names are struct fields in the catalog's pinned schema."""


@dataclass(frozen=True)
class ExtraFile:
    """A file of the version beside the main one (the PMTiles of a boundary file, a data dictionary): its own asset."""

    asset_key: str          # "tiles", "documentation"; a field of the catalog's pinned asset struct
    file_name: str
    media_type: str
    roles: tuple[str, ...]
    size: int
    sha256: str
    data_url: str           # Zenodo
    release_url: str        # releases/ (immutable)
    mirror_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class TorrentV1:
    """The v1-only torrent of the same files (Transmission 3, aria2), beside the hybrid one."""

    url: str
    size: int
    sha256: str
    infohash_v1: str
    magnet: str | None = None


EXTRA_ASSET_KEYS = ("tiles", "documentation")
FILE_ASSET_KEYS = ("data", *EXTRA_ASSET_KEYS)
"""The assets that are files of the version (the rest describe it: torrents, manifest)."""


def version_bytes(item: dict) -> int:
    """Bytes of every file of the version an item describes (what a torrent of the version holds)."""
    return sum(int(item["assets"][key]["file:size"]) for key in FILE_ASSET_KEYS if item["assets"].get(key))


@dataclass(frozen=True)
class VersionFacts:
    """Everything known about one published dataset version; plain values only."""

    dataset_id: str
    version: str
    title_en: str
    title_fr: str | None
    description_en: str
    description_fr: str | None
    license: str
    license_url: str | None
    keywords: tuple[str, ...]
    producer: str
    producer_url: str | None
    doi: str
    concept_doi: str
    zenodo_record_url: str
    data_url: str
    release_url: str
    mirror_urls: tuple[str, ...]
    file_name: str
    media_type: str
    size: int
    sha256: str
    md5: str | None
    torrent_url: str
    torrent_size: int
    torrent_sha256: str
    magnet: str
    infohash_v1: str
    infohash_v2: str | None
    manifest_url: str
    geometry: dict
    bbox: tuple[float, float, float, float]
    start_datetime: datetime | None
    end_datetime: datetime | None
    published: datetime
    source_url: str
    citation: str | None = None
    extra_files: tuple[ExtraFile, ...] = ()
    torrent_v1: TorrentV1 | None = None


def _label(facts: VersionFacts) -> str:
    return f"dataset {facts.dataset_id!r} version {facts.version!r}"


def _geojson(facts: VersionFacts) -> dict:
    """Normalised through shapely so the dict equals what the catalog gives back (lists, floats)."""
    try:
        geometry = shapely.geometry.shape(facts.geometry)
    except Exception as error:
        raise ValueError(f"{_label(facts)}: geometry is not valid GeoJSON: {error}") from error
    if geometry.is_empty:
        raise ValueError(f"{_label(facts)}: geometry is empty; give the data's footprint in EPSG:4326")
    return json.loads(shapely.to_geojson(geometry))


def _bbox(facts: VersionFacts) -> list[float]:
    if len(facts.bbox) != 4:
        raise ValueError(f"{_label(facts)}: bbox must be (west, south, east, north), got {facts.bbox!r}")
    west, south, east, north = (float(v) for v in facts.bbox)
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(f"{_label(facts)}: bbox {facts.bbox!r} is not in EPSG:4326 degrees")
    return [west, south, east, north]


def _times(facts: VersionFacts) -> dict:
    times: dict = {"published": c.format_datetime(facts.published)}
    if facts.start_datetime and facts.end_datetime:
        if facts.end_datetime < facts.start_datetime:
            raise ValueError(f"{_label(facts)}: reference period ends before it starts")
        times |= {"datetime": None, "start_datetime": c.format_datetime(facts.start_datetime), "end_datetime": c.format_datetime(facts.end_datetime)}
    else:
        # Without a full reference period the single instant we know is the release.
        times["datetime"] = c.format_datetime(facts.start_datetime or facts.end_datetime or facts.published)
    return times


def default_citation(facts: VersionFacts) -> str:
    year = facts.published.year
    return (f"{facts.producer}; Data for Canada ({year}). {facts.title_en} (version {facts.version}) [Data set]. "
            f"Zenodo. {c.doi_url(facts.doi)}")


def _properties(facts: VersionFacts) -> dict:
    properties = _times(facts) | {
        "title": facts.title_en,
        "description": facts.description_en,
        "language": dict(c.ENGLISH),
        "languages": [dict(c.FRENCH)] if facts.title_fr or facts.description_fr else [],
        "license": facts.license,
        "keywords": list(facts.keywords),
        "providers": _providers(facts),
        "version": facts.version,
        "sci:doi": facts.doi,
        "sci:citation": facts.citation or default_citation(facts),
        "dfc:concept_doi": facts.concept_doi,
    }
    if facts.title_fr:
        properties["dfc:title_fr"] = facts.title_fr
    if facts.description_fr:
        properties["dfc:description_fr"] = facts.description_fr
    if not properties["languages"]:
        del properties["languages"]
    if not properties["keywords"]:
        del properties["keywords"]
    return properties


def _providers(facts: VersionFacts) -> list[dict]:
    producer = {"name": facts.producer, "roles": ["producer", "licensor"]}
    if facts.producer_url:
        producer["url"] = facts.producer_url
    return [producer, dict(c.DATA_FOR_CANADA, roles=["processor"]), dict(c.ZENODO_HOST, roles=["host"])]


def _alternates(facts: VersionFacts) -> dict:
    if len(facts.mirror_urls) > MAX_MIRRORS:
        raise ValueError(f"{_label(facts)}: {len(facts.mirror_urls)} mirrors, the catalog schema holds at most {MAX_MIRRORS}; "
                         "raise MAX_MIRRORS and the pinned schema together")
    alternates = {"object-storage": {"href": facts.release_url, "alternate:name": "Data for Canada object storage (immutable release)"}}
    for index, url in enumerate(facts.mirror_urls, start=1):
        alternates[f"mirror-{index}"] = {"href": url, "alternate:name": f"Mirror {index}"}
    alternates["magnet"] = {"href": facts.magnet, "alternate:name": "BitTorrent magnet link"}
    return alternates


def _assets(facts: VersionFacts) -> dict:
    torrent = {
        "href": facts.torrent_url, "type": c.TORRENT_MEDIA_TYPE, "title": f"{facts.file_name}.torrent",
        "roles": ["metadata", "torrent"],
        "file:size": int(facts.torrent_size), "file:checksum": c.sha256_multihash(facts.torrent_sha256),
        "dfc:infohash_v1": facts.infohash_v1,
    }
    if facts.infohash_v2:
        torrent["dfc:infohash_v2"] = facts.infohash_v2
    assets = {
        "data": {
            "href": facts.data_url, "type": facts.media_type, "title": facts.file_name, "roles": ["data"],
            "file:size": int(facts.size), "file:checksum": c.sha256_multihash(facts.sha256),
            "alternate:name": "Zenodo", "alternate": _alternates(facts),
        },
        "torrent": torrent,
        "manifest": {"href": facts.manifest_url, "type": c.JSON_MEDIA_TYPE, "title": "Build manifest", "roles": ["metadata"]},
    }
    if facts.torrent_v1 is not None:
        v1 = facts.torrent_v1
        assets["torrent-v1"] = {
            "href": v1.url, "type": c.TORRENT_MEDIA_TYPE, "title": f"{facts.file_name}.v1.torrent (BitTorrent v1 only)",
            "roles": ["metadata", "torrent"], "file:size": int(v1.size), "file:checksum": c.sha256_multihash(v1.sha256),
            "dfc:infohash_v1": v1.infohash_v1,
        }
    for extra in facts.extra_files:
        if extra.asset_key not in EXTRA_ASSET_KEYS or extra.asset_key in assets:
            raise ValueError(f"{_label(facts)}: file {extra.file_name} has asset key {extra.asset_key!r}; "
                             f"a version holds at most one file per key of {EXTRA_ASSET_KEYS} (the catalog's pinned schema)")
        if len(extra.mirror_urls) > MAX_MIRRORS:
            raise ValueError(f"{_label(facts)}: {len(extra.mirror_urls)} mirrors of {extra.file_name}, at most {MAX_MIRRORS}")
        alternates = {"object-storage": {"href": extra.release_url, "alternate:name": "Data for Canada object storage (immutable release)"}}
        for index, url in enumerate(extra.mirror_urls, start=1):
            alternates[f"mirror-{index}"] = {"href": url, "alternate:name": f"Mirror {index}"}
        assets[extra.asset_key] = {
            "href": extra.data_url, "type": extra.media_type, "title": extra.file_name, "roles": list(extra.roles),
            "file:size": int(extra.size), "file:checksum": c.sha256_multihash(extra.sha256),
            "alternate:name": "Zenodo", "alternate": alternates,
        }
    return assets


def _links(facts: VersionFacts) -> list[dict]:
    links = [
        {"rel": "collection", "href": f"./{c.COLLECTION_FILE}", "type": c.JSON_MEDIA_TYPE},
        {"rel": "cite-as", "href": c.doi_url(facts.doi), "title": f"DOI {facts.doi}"},
        {"rel": "via", "href": facts.zenodo_record_url, "type": c.HTML_MEDIA_TYPE, "title": "Zenodo record"},
    ]
    if facts.license_url:
        links.append({"rel": "license", "href": facts.license_url, "title": facts.license})
    if facts.source_url:
        links.append({"rel": "derived_from", "href": facts.source_url, "title": f"Upstream source ({facts.producer})"})
    return links


def build_item(facts: VersionFacts) -> dict:
    """A STAC 1.1.0 item for one version, without version links or `deprecated` (see `version_links.link_versions`).

    Hrefs to the collection are relative (`./collection.json`): items and their collection share one folder in the
    STAC JSON export, and the catalog file keeps the same hrefs.
    """
    return {
        "type": "Feature",
        "stac_version": c.STAC_VERSION,
        "stac_extensions": list(c.ITEM_EXTENSIONS),
        "id": c.item_id(facts.dataset_id, facts.version),
        "geometry": _geojson(facts),
        "bbox": _bbox(facts),
        "properties": _properties(facts),
        "links": _links(facts),
        "assets": _assets(facts),
        "collection": facts.dataset_id,
    }
