"""The object-store key layout (DESIGN §3). One place builds every key."""

from __future__ import annotations

from dataclasses import dataclass

from dfc_assets.versions import validate_version_key


ZENODO_RECORD_SUFFIX = ".zenodo.json"
STAC_ITEM_SUFFIX = ".item.json"
MANIFEST_SUFFIX = ".manifest.json"
RAW_INDEX_SUFFIX = ".raw.json"
TORRENT_SUFFIX = ".parquet.torrent"
"""The hybrid (or, with DFC_TORRENT_FLAVOUR=v1, the only) torrent of a version; the name predates multi-file versions."""
TORRENT_V1_SUFFIX = ".v1.torrent"
RELEASES_PREFIX = "releases/"
ARCHIVE_PREFIX = "archive/"


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
    def raw_index(self) -> str:
        """The list of archived upstream files of this version (written last by the raw step)."""
        return self.archive(f"{self.stem}{RAW_INDEX_SUFFIX}")

    def file_name(self, extension: str) -> str:
        """The name of one file of this version: ``{D}_{version}.{ext}`` (DESIGN §3)."""
        return f"{self.stem}.{extension}"

    def release_file(self, name: str) -> str:
        return self.release_prefix + name

    @property
    def artifact_name(self) -> str:
        return f"{self.stem}.parquet"

    @property
    def artifact(self) -> str:
        return self.release_prefix + self.artifact_name

    @property
    def manifest_name(self) -> str:
        return f"{self.stem}{MANIFEST_SUFFIX}"

    @property
    def manifest(self) -> str:
        return self.release_prefix + self.manifest_name

    @property
    def torrent_name(self) -> str:
        return f"{self.stem}{TORRENT_SUFFIX}"

    @property
    def torrent(self) -> str:
        return self.release_prefix + self.torrent_name

    @property
    def torrent_v1_name(self) -> str:
        return f"{self.stem}{TORRENT_V1_SUFFIX}"

    @property
    def torrent_v1(self) -> str:
        """The v1-only torrent of the same files, beside the hybrid one (Transmission 3, aria2)."""
        return self.release_prefix + self.torrent_v1_name

    @property
    def footprint_png(self) -> str:
        return self.release_prefix + f"{self.stem}.footprint.png"

    @property
    def stac_item_name(self) -> str:
        return f"{self.stem}{STAC_ITEM_SUFFIX}"

    @property
    def stac_item(self) -> str:
        return self.release_prefix + self.stac_item_name

    @property
    def zenodo_record_name(self) -> str:
        return f"{self.stem}{ZENODO_RECORD_SUFFIX}"

    @property
    def zenodo_record(self) -> str:
        """The published Zenodo record of this version (DOI, record id, file URLs); written once it is published."""
        return self.release_prefix + self.zenodo_record_name

    @property
    def zenodo_journal(self) -> str:
        """Mutable state of this version's Zenodo publication (draft id, then the published record)."""
        return f"state/zenodo/{self.dataset_id}/{self.version}.json"


def dataset_releases_prefix(dataset_id: str) -> str:
    return f"{RELEASES_PREFIX}{dataset_id}/"


def dataset_archive_prefix(dataset_id: str) -> str:
    return f"{ARCHIVE_PREFIX}{dataset_id}/"


@dataclass(frozen=True)
class ReleaseKey:
    """A key under releases/ or archive/, split: ``{top}/{dataset_id}/{version}/{name}``."""

    dataset_id: str
    version: str
    name: str

    @property
    def keys(self) -> VersionKeys:
        return VersionKeys(self.dataset_id, self.version)


def parse_version_key(key: str, *, top: str = RELEASES_PREFIX) -> ReleaseKey | None:
    """The dataset, version and file name of a key under ``top`` (releases/ or archive/); None for anything else."""
    if not key.startswith(top):
        return None
    parts = key[len(top):].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    try:
        VersionKeys(parts[0], parts[1])
    except ValueError:
        return None
    return ReleaseKey(*parts)


def publishing_lease(dataset_id: str) -> str:
    """The lease of whoever publishes the dataset now (one run at a time, every step of every version; mutable)."""
    return f"state/publishing/{dataset_id}.lease"


def processed_file(dataset_id: str, extension: str) -> str:
    """The latest version's file with this extension, under the dataset's name."""
    return f"processed/{dataset_id}.{extension}"


def processed_artifact(dataset_id: str) -> str:
    return processed_file(dataset_id, "parquet")


def processed_pointer(dataset_id: str) -> str:
    """JSON beside the latest aliases: which version they hold, the immutable release keys and checksums (written last)."""
    return f"processed/{dataset_id}.json"


CATALOG = "catalog/dfc-catalog.parquet"
CATALOG_BUILDS_PREFIX = "catalog/builds/"
STAC_JSON_PREFIX = "catalog/stac/"
TORRENT_FEED = "feeds/torrents.xml"


def dataset_feed(dataset_id: str) -> str:
    return f"feeds/{dataset_id}.xml"
