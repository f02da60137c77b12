from dfc_assets.storage.keys import (
    CATALOG,
    CATALOG_BUILDS_PREFIX,
    STAC_JSON_PREFIX,
    TORRENT_FEED,
    VersionKeys,
    dataset_feed,
    processed_artifact,
    processed_pointer,
)
from dfc_assets.storage.local import LocalFolderStore
from dfc_assets.storage.s3 import S3ObjectStore
from dfc_assets.storage.store import ObjectExists, ObjectInfo, ObjectStore

__all__ = [
    "CATALOG", "CATALOG_BUILDS_PREFIX", "STAC_JSON_PREFIX", "TORRENT_FEED", "LocalFolderStore", "ObjectExists",
    "ObjectInfo", "ObjectStore", "S3ObjectStore", "VersionKeys", "dataset_feed",
    "processed_artifact", "processed_pointer",
]
