"""Step `raw`: the upstream bytes of a version, archived under archive/ with sha256. Old versions are never re-downloaded.

Nothing is archived unless every file of the version downloaded completely, within the limits,
and is what the source kind promises. A file that downloaded but holds something else (an HTML
error page instead of the zip) is kept for diagnosis on local disk, in ``DFC_FAILED_DOWNLOADS_DIR``
(default ``{tmp}/dfc-failed-downloads``), never in the bucket.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.publication.dataset_lease import done_or_do
from dfc_assets.publication.published import Published
from dfc_assets.registry import DatasetSpec
from dfc_assets.sources import SourceError, UnexpectedContent, fetch_release
from dfc_assets.publication.scratch import CacheMismatch, admit, local_copy, record_digests
from dfc_assets.sources.kinds import source_kind
from dfc_assets.storage.digests import FileDigest, remember
from dfc_assets.storage.hashed_copy import put_file_hashed
from dfc_assets.storage.store import ObjectStore
from dfc_assets.torrent.options import piece_size_for


@dataclass(frozen=True)
class RawArchive:
    files: tuple[dict, ...]      # url, file_name, sha256, size, etag, last_modified, retrieved_at, key
    reused: bool
    upstream_releases: tuple[str, ...] = ()  # the upstream release times this version covers (release cadence), oldest first

    @property
    def total_size(self) -> int:
        return sum(f["size"] for f in self.files)


FAILED_DOWNLOADS_ENV = "DFC_FAILED_DOWNLOADS_DIR"


def failed_downloads_dir() -> Path:
    return Path(os.environ.get(FAILED_DOWNLOADS_ENV) or Path(tempfile.gettempdir()) / "dfc-failed-downloads")


def keep_for_diagnosis(spec: DatasetSpec, version: str, path: Path) -> Path:
    """Copy a refused upstream file out of the scratch folder (which is deleted after the run)."""
    target = failed_downloads_dir() / spec.id / version / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return target


def index_key(publisher: Publisher, spec: DatasetSpec, version: str) -> str:
    return publisher.keys(spec, version).raw_index


def load_archive(publisher: Publisher, spec: DatasetSpec, version: str) -> RawArchive | None:
    index = publisher.published.raw_index(spec.id, version)
    if not index:
        return None
    return RawArchive(files=tuple(index["files"]), reused=True, upstream_releases=tuple(index.get("upstream_releases", ())))


def archive_raw(publisher: Publisher, spec: DatasetSpec, version: str, *, upstream_releases: tuple[str, ...] = ()) -> RawArchive:
    """``upstream_releases``: what the sensor saw upstream since the previous version (changes inside the release
    cadence's window coalesce into this one); recorded in the archive index and the build manifest.
    One publisher of the dataset at a time (``dataset_lease``): a second one waits, then finds the archive."""
    def archived() -> RawArchive | None:
        existing = load_archive(publisher, spec, version)
        if existing is not None:
            publisher.log(f"{label(spec, version)}: upstream files already archived ({len(existing.files)} files); not downloading again")
        return existing

    return done_or_do(publisher, spec, version, "raw", archived, lambda: _download_and_archive(publisher, spec, version, upstream_releases))


def _download_and_archive(publisher: Publisher, spec: DatasetSpec, version: str, upstream_releases: tuple[str, ...]) -> RawArchive:
    keys = publisher.keys(spec, version)
    workdir = publisher.work_dir(spec, version, "raw")
    try:
        downloaded = fetch_release(spec, version, publisher.settings, publisher.http, workdir, log=publisher.log)
    except UnexpectedContent as error:
        kept = keep_for_diagnosis(spec, version, error.path)
        raise PublicationError(f"{error} (the bytes received are kept for diagnosis at {kept})") from None
    except SourceError as error:
        raise PublicationError(str(error)) from None
    files = []
    published_as_is = getattr(source_kind(spec), "PUBLISHED_AS_IS", False)
    for item in downloaded:
        key = keys.archive(item.file_name)
        if published_as_is:
            archive_as_published(publisher, spec, version, key, item.path, item.sha256)
        else:
            publisher.store.put_file(key, item.path, if_absent=True)
        admit(item.path, item.sha256)  # the parquet step on this host reads it from here, not from the store
        files.append({**item.facts(), "key": key})
        publisher.log(f"{label(spec, version)}: archived {item.file_name} ({item.size} bytes, sha256 {item.sha256}) at {key}")
    index = {"dataset_id": spec.id, "version": version, "files": files}
    if upstream_releases:
        index["upstream_releases"] = list(upstream_releases)
    publisher.store.put_bytes(index_key(publisher, spec, version), canonical_json(index), if_absent=True)
    return RawArchive(files=tuple(files), reused=False, upstream_releases=tuple(upstream_releases))


def archive_as_published(publisher: Publisher, spec: DatasetSpec, version: str, key: str, path: Path, sha256: str) -> None:
    """A file the version publishes as it is (a prebuilt artifact): archived while its md5 and torrent hashes are
    computed from the same read, so the parquet step copies the archived object and nothing reads it again
    before the Zenodo upload. Its sha256 is the one the download computed from the bytes as it wrote them."""
    digests = put_file_hashed(publisher.store, key, path, piece_size=piece_size_for(path.stat().st_size),
                              v2=publisher.settings.torrent_flavour == "hybrid", sha256=sha256)  # the download hashed it
    record_digests(digests)
    remember(path, FileDigest(digests.size, sha256, digests.md5))  # type: ignore[arg-type]


def download_archive(publisher: Publisher, spec: DatasetSpec, version: str, dest: Path) -> list[tuple[dict, Path]]:
    """Archived files of a version on local disk, each checked against its recorded sha256."""
    archive = load_archive(publisher, spec, version)
    if archive is None:
        raise PublicationError(f"{label(spec, version)}: nothing archived under {publisher.keys(spec, version).archive_prefix}; materialize raw first")
    local = []
    for facts in archive.files:
        try:
            path, _ = local_copy(facts["file_name"], int(facts["size"]), facts["sha256"], dest,
                                 lambda incoming, key=facts["key"]: publisher.store.download(key, incoming))
        except CacheMismatch as error:
            raise PublicationError(f"{label(spec, version)}: archived file {facts['key']} does not match its recorded size and sha256: {error}") from None
        local.append((facts, path))
    return local



def latest_source_sha256(store: ObjectStore, spec: DatasetSpec) -> str | None:
    """sha256 of the main upstream file of the newest archived version (what change detection compares against)."""
    published = Published(store)
    for version in reversed(published.archived_versions(spec.id)):
        index = published.raw_index(spec.id, version)
        if index is not None:
            return index["files"][0]["sha256"] if index["files"] else None
    return None
