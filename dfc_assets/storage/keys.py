"""The object-store key layout (DESIGN §3). One place builds every key."""

from __future__ import annotations

from dataclasses import dataclass

from dfc_assets.versions import validate_version_key


ZENODO_RECORD_SUFFIX = ".zenodo.json"
STAC_ITEM_SUFFIX = ".item.json"


@dataclass(frozen=True)
class VersionKeys:
    dataset_id: str
    version: str

    def __post_init__(self) -> None:
        validate_version_key(self.version, dataset=self.dataset_id)

    @property
    def stem(self) -> str:
        return f"{self.dataset_id}_{self.version}"

    @property
    def release_prefix(self) -> str:
        return f"releases/{self.dataset_id}/{self.version}/"

    @property
    def archive_prefix(self) -> str:
        return f"archive/{self.dataset_id}/{self.version}/"

    def archive(self, upstream_file: str) -> str:
        return self.archive_prefix + upstream_file

    @property
    def artifact_name(self) -> str:
        return f"{self.stem}.parquet"

    @property
    def artifact(self) -> str:
        return self.release_prefix + self.artifact_name

    @property
    def manifest(self) -> str:
        return self.release_prefix + f"{self.stem}.manifest.json"

    @property
    def torrent(self) -> str:
        """The main torrent (hybrid by default) of every file of the version; the name predates multi-file versions."""
        return self.release_prefix + f"{self.stem}.parquet.torrent"

    @property
    def torrent_v1(self) -> str:
        """A v1-only torrent of the same files (Transmission 3, aria2)."""
        return self.release_prefix + f"{self.stem}.v1.torrent"

    @property
    def footprint_png(self) -> str:
        return self.release_prefix + f"{self.stem}.footprint.png"

    @property
    def stac_item(self) -> str:
        return self.release_prefix + f"{self.stem}{STAC_ITEM_SUFFIX}"

    @property
    def zenodo_record(self) -> str:
        """The published Zenodo record of this version (DOI, record id, file URLs); written once it is published."""
        return self.release_prefix + f"{self.stem}{ZENODO_RECORD_SUFFIX}"

    @property
    def zenodo_journal(self) -> str:
        """Mutable state of this version's Zenodo publication (draft id, then the published record)."""
        return f"state/zenodo/{self.dataset_id}/{self.version}.json"


def processed_artifact(dataset_id: str) -> str:
    return f"processed/{dataset_id}.parquet"


def processed_pointer(dataset_id: str) -> str:
    """JSON beside the latest alias: which version it holds, its DOI and checksums."""
    return f"processed/{dataset_id}.json"


CATALOG = "catalog/dfc-catalog.parquet"
CATALOG_BUILDS_PREFIX = "catalog/builds/"
STAC_JSON_PREFIX = "catalog/stac/"
TORRENT_FEED = "feeds/torrents.xml"


def dataset_feed(dataset_id: str) -> str:
    return f"feeds/{dataset_id}.xml"
