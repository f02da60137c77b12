"""Media types of the files a version publishes, by file extension (the one table; S3 Content-Type and STAC `type`)."""

from __future__ import annotations

PARQUET = "application/vnd.apache.parquet"
PMTILES = "application/vnd.pmtiles"
FLATGEOBUF = "application/vnd.flatgeobuf"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"
JSON = "application/json"
TORRENT = "application/x-bittorrent"

BY_EXTENSION = {
    "parquet": PARQUET,
    "pmtiles": PMTILES,
    "fgb": FLATGEOBUF,
    "tif": COG,
    "tiff": COG,
    "json": JSON,
    "torrent": TORRENT,
    "xml": "application/rss+xml",
    "zip": "application/zip",
    "png": "image/png",
    "csv": "text/csv",
}


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def media_type_for(name: str) -> str:
    return BY_EXTENSION.get(extension_of(name), "application/octet-stream")
