"""STAC constants shared by items, collections and the catalog file: versions, extension URIs, media types, time format."""

from __future__ import annotations

from datetime import datetime, timezone

STAC_VERSION = "1.1.0"

VERSION_EXTENSION = "https://stac-extensions.github.io/version/v1.2.0/schema.json"
SCIENTIFIC_EXTENSION = "https://stac-extensions.github.io/scientific/v1.0.0/schema.json"
FILE_EXTENSION = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
ALTERNATE_ASSETS_EXTENSION = "https://stac-extensions.github.io/alternate-assets/v1.2.0/schema.json"
LANGUAGE_EXTENSION = "https://stac-extensions.github.io/language/v1.0.0/schema.json"
TIMESTAMPS_EXTENSION = "https://stac-extensions.github.io/timestamps/v1.1.0/schema.json"

ITEM_EXTENSIONS = (
    VERSION_EXTENSION,
    SCIENTIFIC_EXTENSION,
    FILE_EXTENSION,
    ALTERNATE_ASSETS_EXTENSION,
    LANGUAGE_EXTENSION,
    TIMESTAMPS_EXTENSION,
)
COLLECTION_EXTENSIONS = (VERSION_EXTENSION, SCIENTIFIC_EXTENSION, LANGUAGE_EXTENSION)

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
TORRENT_MEDIA_TYPE = "application/x-bittorrent"
JSON_MEDIA_TYPE = "application/json"
GEOJSON_MEDIA_TYPE = "application/geo+json"
HTML_MEDIA_TYPE = "text/html"

ENGLISH = {"code": "en", "name": "English"}
FRENCH = {"code": "fr", "name": "Français", "alternate": "French"}

DATA_FOR_CANADA = {"name": "Data for Canada", "roles": ["processor"], "url": "https://www.dataforcanada.org"}
ZENODO_HOST = {"name": "Zenodo", "roles": ["host"], "url": "https://zenodo.org"}

COLLECTION_FILE = "collection.json"
"""Items and their collection JSON share one folder per dataset: `{dataset_id}/collection.json`, `{dataset_id}/{item_id}.json`."""


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`; microseconds only when present, so the text survives a Parquet round trip unchanged."""
    if value.tzinfo is None:
        raise ValueError(f"datetime {value.isoformat()} has no time zone; STAC needs an aware UTC time")
    utc = value.astimezone(timezone.utc)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def sha256_multihash(hex_digest: str) -> str:
    """file:checksum as a multihash: 0x12 (sha2-256), 0x20 (32 bytes), then the digest."""
    digest = hex_digest.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a sha256 hex digest: {hex_digest!r}")
    return "1220" + digest


def item_id(dataset_id: str, version: str) -> str:
    return f"{dataset_id}_{version}"
