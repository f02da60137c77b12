"""What is published for dataset D version V, read from the object store: the one typed owner of the read side.

Every step, `dfc status`, `dfc verify`, the audit, the feeds and seeding ask this module, never the keys
themselves: the manifest (typed), its files under releases/, the Zenodo record, the torrents (hybrid and v1), the
STAC item, the versions of a dataset and the `processed/` pointer. Keys come from ``storage/keys.py`` only.

A missing object reads as None; an object that is there but does not parse is an error naming the dataset, the
version and the key (a corrupt manifest must never read as "not published yet").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from dfc_assets.storage.keys import (
    ARCHIVE_PREFIX, RELEASES_PREFIX, TORRENT_SUFFIX, TORRENT_V1_SUFFIX,
    ReleaseKey, VersionKeys, dataset_archive_prefix, dataset_releases_prefix, parse_version_key, processed_pointer,
)
from dfc_assets.storage.store import ObjectStore
from dfc_assets.transform.manifest import Manifest, ManifestFile
from dfc_assets.versions import is_newer, sort_versions
from dfc_assets.zenodo.record import PublishedFile, PublishedRecord


T = TypeVar("T")
ONE_LIST_FROM = 20
"""``Published.finished`` lists all of releases/ once when asked about this many versions or more, else each version's prefix."""


class PublishedStateError(RuntimeError):
    """An object under releases/ or processed/ that is there but unreadable; names dataset, version and key."""


def _label(dataset_id: str, version: str | None = None) -> str:
    return f"dataset {dataset_id}" + (f" version {version}" if version is not None else "")


def _json_object(data: bytes) -> dict:
    document = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


@dataclass(frozen=True)
class TorrentFile:
    """A published .torrent: its key and bytes. Parse it with ``torrent.metainfo.read_torrent``."""

    key: str
    data: bytes
    flavour: str  # "hybrid" (or whatever DFC_TORRENT_FLAVOUR made the main torrent) or "v1"


@dataclass(frozen=True)
class LatestFile:
    """One file of the version processed/ serves: the alias key and the immutable release key it copies."""

    name: str            # the release file name, {D}_{version}.{ext}
    processed_key: str   # processed/{D}.{ext}
    release_key: str     # releases/{D}/{version}/{D}_{version}.{ext}
    sha256: str
    size: int
    role: str = "data"


@dataclass(frozen=True)
class LatestPointer:
    """``processed/{D}.json``: written after every alias, so it names bytes that are already in place."""

    dataset_id: str
    version: str
    files: tuple[LatestFile, ...]
    doi: str | None = None
    concept_doi: str | None = None
    release_url: str | None = None
    torrent_url: str | None = None

    @property
    def sha256(self) -> str | None:
        return self.files[0].sha256 if self.files else None

    @property
    def size(self) -> int | None:
        return self.files[0].size if self.files else None

    def to_dict(self) -> dict:
        primary = self.files[0] if self.files else None
        return {
            "dataset_id": self.dataset_id, "version": self.version,
            # format 1 readers: the main file's checksum at the top level
            "sha256": primary.sha256 if primary else None, "size": primary.size if primary else None,
            "files": [{"name": f.name, "processed_key": f.processed_key, "release_key": f.release_key,
                       "sha256": f.sha256, "size": f.size, "role": f.role} for f in self.files],
            "doi": self.doi, "concept_doi": self.concept_doi, "release_url": self.release_url, "torrent_url": self.torrent_url,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "LatestPointer":
        dataset_id, version = d["dataset_id"], d["version"]
        if "files" in d:
            files = tuple(LatestFile(f["name"], f["processed_key"], f["release_key"], f["sha256"], int(f["size"]), f.get("role", "data"))
                          for f in d["files"])
        else:  # format 1: one parquet alias
            keys = VersionKeys(dataset_id, version)
            files = (LatestFile(keys.artifact_name, f"processed/{dataset_id}.parquet", keys.artifact, d.get("sha256") or "", int(d.get("size") or 0)),)
        return cls(dataset_id, version, files, d.get("doi"), d.get("concept_doi"), d.get("release_url"), d.get("torrent_url"))


@dataclass(frozen=True)
class PublishedVersion:
    """Everything the store holds for one version; None where a step has not run (or not finished)."""

    dataset_id: str
    version: str
    manifest: Manifest | None
    record: PublishedRecord | None
    torrent: TorrentFile | None
    torrent_v1: TorrentFile | None
    item: dict | None
    names: frozenset[str] = field(default_factory=frozenset)  # every file name under releases/{D}/{version}/

    @property
    def keys(self) -> VersionKeys:
        return VersionKeys(self.dataset_id, self.version)

    @property
    def files(self) -> tuple[ManifestFile, ...]:
        return self.manifest.files if self.manifest else ()

    @property
    def missing_files(self) -> tuple[str, ...]:
        """Files the manifest lists that are not under releases/ (the artifact step has not finished)."""
        return tuple(f.name for f in self.files if f.name not in self.names)

    @property
    def has_files(self) -> bool:
        return self.manifest is not None and not self.missing_files

    @property
    def fully_published(self) -> bool:
        return self.has_files and self.record is not None and self.torrent is not None

    def zenodo_file(self, name: str) -> PublishedFile | None:
        if self.record is None:
            return None
        return next((f for f in self.record.files if f.key == name), None)

    def release_key(self, name: str) -> str:
        return self.keys.release_file(name)


class Published:
    """The read side over one object store. Cheap to make; holds no cache beyond one call."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    # -- low level ---------------------------------------------------------------------------------------------
    def _get(self, key: str) -> bytes | None:
        try:
            return self.store.get_bytes(key)
        except KeyError:
            return None

    def _read(self, key: str, parse: Callable[[bytes], T], dataset_id: str, version: str | None = None) -> T | None:
        """``parse`` of the object at ``key``; None when absent; an error naming the object when it does not parse."""
        data = self._get(key)
        if data is None:
            return None
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError) as error:  # ManifestError and JSONDecodeError are ValueErrors
            raise PublishedStateError(f"{_label(dataset_id, version)}: {key} does not parse: {error}") from None

    def _json(self, key: str, dataset_id: str, version: str | None = None) -> dict | None:
        return self._read(key, _json_object, dataset_id, version)

    # -- versions ----------------------------------------------------------------------------------------------
    def release_listing(self, dataset_id: str) -> dict[str, frozenset[str]]:
        """version -> the file names under releases/{D}/{version}/, from one LIST."""
        found: dict[str, set[str]] = {}
        for info in self.store.list(dataset_releases_prefix(dataset_id)):
            parsed = parse_version_key(info.key)
            if parsed is not None and parsed.dataset_id == dataset_id:
                found.setdefault(parsed.version, set()).add(parsed.name)
        return {version: frozenset(names) for version, names in found.items()}

    def versions(self, dataset_id: str) -> list[str]:
        """Every version with anything under releases/{D}/, in release order."""
        return sort_versions(self.release_listing(dataset_id))

    def archived_versions(self, dataset_id: str) -> list[str]:
        """Every version with anything under archive/{D}/, in release order."""
        found = {parsed.version for info in self.store.list(dataset_archive_prefix(dataset_id))
                 if (parsed := parse_version_key(info.key, top=ARCHIVE_PREFIX)) is not None and parsed.dataset_id == dataset_id}
        return sort_versions(found)

    def known_versions(self, dataset_id: str) -> list[str]:
        """Versions archived or released (a version key is taken once anything exists for it)."""
        return sort_versions(set(self.versions(dataset_id)) | set(self.archived_versions(dataset_id)))

    def versions_on_zenodo(self, dataset_id: str) -> list[str]:
        """Versions with a Zenodo record under releases/, in release order."""
        return sort_versions(v for v, names in self.release_listing(dataset_id).items()
                             if VersionKeys(dataset_id, v).zenodo_record_name in names)

    # -- one version -------------------------------------------------------------------------------------------
    def manifest(self, dataset_id: str, version: str) -> Manifest | None:
        keys = VersionKeys(dataset_id, version)
        manifest = self._read(keys.manifest, Manifest.from_bytes, dataset_id, version)
        if manifest is not None and (manifest.dataset_id, manifest.version) != (dataset_id, version):
            raise PublishedStateError(f"{_label(dataset_id, version)}: {keys.manifest} describes "
                                      f"{manifest.dataset_id} version {manifest.version}")
        return manifest

    def record(self, dataset_id: str, version: str) -> PublishedRecord | None:
        return self._read(VersionKeys(dataset_id, version).zenodo_record,
                          lambda data: PublishedRecord.from_dict(_json_object(data)), dataset_id, version)

    def torrent(self, dataset_id: str, version: str, *, v1: bool = False) -> TorrentFile | None:
        keys = VersionKeys(dataset_id, version)
        key = keys.torrent_v1 if v1 else keys.torrent
        data = self._get(key)
        return TorrentFile(key, data, "v1" if v1 else "hybrid") if data is not None else None

    def item(self, dataset_id: str, version: str) -> dict | None:
        return self._json(VersionKeys(dataset_id, version).stac_item, dataset_id, version)

    def raw_index(self, dataset_id: str, version: str) -> dict | None:
        return self._json(VersionKeys(dataset_id, version).raw_index, dataset_id, version)

    def version(self, dataset_id: str, version: str, *, names: frozenset[str] | None = None) -> PublishedVersion:
        """All of one version; ``names`` from ``release_listing`` saves the LIST when iterating over versions."""
        if names is None:
            names = self.release_listing_of(dataset_id, version)
        keys = VersionKeys(dataset_id, version)

        return PublishedVersion(
            dataset_id, version,
            manifest=self.manifest(dataset_id, version) if keys.manifest_name in names else None,
            record=self.record(dataset_id, version) if keys.zenodo_record_name in names else None,
            torrent=self.torrent(dataset_id, version) if keys.torrent_name in names else None,
            torrent_v1=self.torrent(dataset_id, version, v1=True) if keys.torrent_v1_name in names else None,
            item=self.item(dataset_id, version) if keys.stac_item_name in names else None,
            names=names,
        )

    def complete_manifest(self, dataset_id: str, version: str) -> Manifest | None:
        """The manifest, if every file it lists is under releases/ (one LIST and one GET; what the steps need)."""
        names = self.release_listing_of(dataset_id, version)
        keys = VersionKeys(dataset_id, version)
        if keys.manifest_name not in names:
            return None
        manifest = self.manifest(dataset_id, version)
        return manifest if manifest is not None and all(f.name in names for f in manifest.files) else None

    def release_listing_of(self, dataset_id: str, version: str) -> frozenset[str]:
        keys = VersionKeys(dataset_id, version)
        return frozenset(info.key[len(keys.release_prefix):] for info in self.store.list(keys.release_prefix)
                         if "/" not in info.key[len(keys.release_prefix):])

    def release_listings(self) -> dict[tuple[str, str], frozenset[str]]:
        """(dataset, version) -> the file names under releases/{D}/{version}/, for every dataset, from one LIST of releases/."""
        found: dict[tuple[str, str], set[str]] = {}
        for info in self.store.list(RELEASES_PREFIX):
            parsed = parse_version_key(info.key)
            if parsed is not None:
                found.setdefault((parsed.dataset_id, parsed.version), set()).add(parsed.name)
        return {pair: frozenset(names) for pair, names in found.items()}

    def finished(self, versions: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of these (dataset, version) pairs, those every publishing step has finished: the STAC item is written (its
        step writes it only once the files, the Zenodo record and the torrent are all there) and processed/ serves
        that version or a newer one (the item's step moves it last). A version stopped at any step is not finished.

        One LIST of releases/ when asked about many versions (one LIST a version otherwise: 8,000 versions of 7 files
        on S3 are then 56 LIST pages, not 8,000 requests), then one GET of the processed/ pointer of each dataset
        with an item. 8,000 versions on a local store: 3.7 s (the LIST 3.4 s; threads for the GETs made it slower)."""
        wanted = set(versions)
        if len(wanted) >= ONE_LIST_FROM:
            listed = self.release_listings()
            names = {pair: listed.get(pair, frozenset()) for pair in wanted}
        else:
            names = {(d, v): self.release_listing_of(d, v) for d, v in wanted}
        with_item = [(d, v) for (d, v), present in names.items()
                     if VersionKeys(d, v).stac_item_name in present]
        serving = {d: self.latest_version(d) for d in {d for d, _ in with_item}}
        return {(d, v) for d, v in with_item if serving[d] is not None and not is_newer(v, serving[d])}

    def all_versions(self, dataset_id: str) -> Iterator[PublishedVersion]:
        """Every version of a dataset in release order, from one LIST plus the GETs of what exists."""
        listing = self.release_listing(dataset_id)
        for version in sort_versions(listing):
            yield self.version(dataset_id, version, names=listing[version])

    # -- across versions ---------------------------------------------------------------------------------------
    def concept_recid(self, dataset_id: str) -> str | None:
        """The dataset's Zenodo concept record id, from any version already published."""
        for version in self.versions_on_zenodo(dataset_id):
            record = self.record(dataset_id, version)
            if record is not None:
                return record.concept_recid
        return None

    def item_keys(self, dataset_id: str) -> list[str]:
        listing = self.release_listing(dataset_id)
        return [VersionKeys(dataset_id, v).stac_item for v in sort_versions(listing)
                if VersionKeys(dataset_id, v).stac_item_name in listing[v]]

    def items(self, dataset_id: str) -> list[dict]:
        return [item for key in self.item_keys(dataset_id) if (item := self._json(key, dataset_id)) is not None]

    def torrent_keys(self, *, dataset_id: str | None = None, v1: bool | None = False) -> list[ReleaseKey]:
        """Every published .torrent under releases/ (all datasets, or one), as split keys: the main torrents, the v1
        ones (``v1=True``) or both (``v1=None``; two swarms per version)."""
        prefix = dataset_releases_prefix(dataset_id) if dataset_id else RELEASES_PREFIX
        suffixes = {False: (TORRENT_SUFFIX,), True: (TORRENT_V1_SUFFIX,), None: (TORRENT_SUFFIX, TORRENT_V1_SUFFIX)}[v1]
        found = []
        for info in self.store.list(prefix):
            parsed = parse_version_key(info.key)
            if parsed is not None and any(parsed.name == parsed.keys.stem + suffix for suffix in suffixes):
                found.append(parsed)
        return found

    # -- processed/ --------------------------------------------------------------------------------------------
    def latest(self, dataset_id: str) -> LatestPointer | None:
        """The version processed/ serves, from its pointer (the alias files may be mid-update; the pointer is not)."""
        return self._read(processed_pointer(dataset_id), lambda data: LatestPointer.from_dict(_json_object(data)), dataset_id)

    def latest_version(self, dataset_id: str) -> str | None:
        pointer = self.latest(dataset_id)
        return pointer.version if pointer else None

    def stale_aliases(self, dataset_id: str) -> list[str]:
        """processed/ keys whose size disagrees with the pointer (an interrupted promotion; the next one repairs it).

        Sizes from HEAD: cheap enough for `dfc status`; `dfc verify` compares sha256."""
        pointer = self.latest(dataset_id)
        if pointer is None:
            return []
        stale = []
        for f in pointer.files:
            info = self.store.head(f.processed_key)
            if info is None or info.size != f.size:
                stale.append(f.processed_key)
        return stale + self.orphan_aliases(dataset_id, pointer)

    def orphan_aliases(self, dataset_id: str, pointer: LatestPointer | None = None) -> list[str]:
        """processed/{D}.{ext} files the pointer does not name (left by a promotion that died before deleting them)."""
        pointer = pointer or self.latest(dataset_id)
        named = {f.processed_key for f in pointer.files} if pointer else set()
        prefix, own = f"processed/{dataset_id}.", processed_pointer(dataset_id)
        return [info.key for info in self.store.list(prefix)
                if info.key != own and info.key[len(prefix):].isalnum() and info.key not in named]
