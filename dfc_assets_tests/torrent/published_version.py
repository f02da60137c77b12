"""A version published up to the Zenodo step in a local store served over HTTP, for torrent-step tests:
its files under releases/, a manifest with the `files` list and the Zenodo record (file URLs on a second server)."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import httpx

from dfc_assets.publication.context import Publisher
from dfc_assets.registry import load_registry
from dfc_assets.services.static_files import file_server
from dfc_assets.settings import Settings
from dfc_assets.storage import LocalFolderStore, VersionKeys
from dfc_assets.torrent.metainfo import build_version_torrents, read_torrent
from dfc_assets.torrent.options import TorrentOptions
from dfc_assets.zenodo.record import PublishedFile, PublishedRecord, record_file_url

SPEC = {spec.key: spec for spec in load_registry()}["fixture_provinces_territories"]
RECORD_ID = 4242


class PublishedVersion:
    """releases/{id}/{version}/ holding `sizes` (file suffix -> bytes), with manifest and Zenodo record."""

    def __init__(self, root: Path, version: str, sizes: dict[str, int], *, mirrors: tuple[str, ...] = (),
                 seeder_peer: str | None = None) -> None:
        self.root, self.version = root, version
        self.keys = VersionKeys(SPEC.id, version)
        self.store_server = file_server(root / "store").start()
        self.zenodo_server = file_server(root / "zenodo").start()
        self.store = LocalFolderStore(root / "store", self.store_server.base_url + "/")
        self.settings = Settings(zenodo_url=self.zenodo_server.base_url, store_kind="local",
                                 public_base_url=self.store.public_base_url, local_store_root=self.store.root,
                                 mirror_base_urls=mirrors, seeder_peer=seeder_peer)
        self.http = httpx.Client()
        self.publisher = Publisher(self.settings, self.store, self.http, None, root / "scratch")  # type: ignore[arg-type]
        self.files: dict[str, bytes] = {}
        for i, (suffix, size) in enumerate(sorted(sizes.items())):
            name = f"{self.keys.stem}.{suffix}"
            self.files[name] = random.Random(f"{version}-{i}").randbytes(size)
        entries, record_files = [], []
        for name, data in self.files.items():
            self.store.put_bytes(self.keys.release_prefix + name, data)
            zenodo_copy = root / "zenodo" / "records" / str(RECORD_ID) / "files" / name
            zenodo_copy.parent.mkdir(parents=True, exist_ok=True)
            zenodo_copy.write_bytes(data)
            entries.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                            "md5": hashlib.md5(data).hexdigest(), "media_type": "application/octet-stream", "role": "data"})
            record_files.append(PublishedFile(name, len(data), hashlib.md5(data).hexdigest(),
                                              record_file_url(self.zenodo_server.base_url, RECORD_ID, name)))
        first = entries[0]
        manifest = {"files": entries, "output": {"sha256": first["sha256"], "size": first["size"]}}
        self.store.put_bytes(self.keys.manifest, json.dumps(manifest).encode())
        record = PublishedRecord(RECORD_ID, "4241", f"10.5281/zenodo.{RECORD_ID}", "10.5281/zenodo.4241",
                                 f"https://doi.org/10.5281/zenodo.{RECORD_ID}", "https://doi.org/10.5281/zenodo.4241",
                                 f"{self.zenodo_server.base_url}/records/{RECORD_ID}", version, tuple(record_files))
        self.store.put_bytes(self.keys.zenodo_record, json.dumps(record.to_dict()).encode())

    def mirror_copy(self, folder: Path) -> Path:
        """A community mirror of the bucket layout: the version's files and the pad files the torrent step writes."""
        target = folder / self.keys.release_prefix
        target.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            (target / name).write_bytes(data)
        if len(self.files) > 1:
            paths = [self.store.root / self.keys.release_prefix / name for name in self.files]
            built = build_version_torrents(paths, folder=self.version, options=TorrentOptions())
            for f in read_torrent(built.main.data).files:
                if f.pad:
                    (target / ".pad").mkdir(exist_ok=True)
                    (target / ".pad" / f.file_name).write_bytes(bytes(f.size))
        return folder

    def close(self) -> None:
        self.http.close()
        self.store_server.stop()
        self.zenodo_server.stop()
