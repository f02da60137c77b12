"""A prebuilt file is read once after its download on the way to the store and the torrent: archived while
hashed, then copied under releases/ from the archived object (no read), its torrents from the recorded hashes."""

from __future__ import annotations

import hashlib
import os
import random

from dfc_assets.publication import artifact, raw, scratch
from dfc_assets.publication.context import Publisher
from dfc_assets.settings import Settings
from dfc_assets.storage import LocalFolderStore, VersionKeys
from dfc_assets.storage.digests import known_digest
from dfc_assets.torrent import hashing
from dfc_assets.torrent.options import MIB, piece_size_for

from dfc_assets_tests.torrent.published_version import SPEC


def test_a_prebuilt_file_archived_while_hashed_reaches_releases_without_a_read(tmp_path, monkeypatch):
    monkeypatch.setenv("DFC_CACHE_DIR", str(tmp_path / "cache"))
    store = LocalFolderStore(tmp_path / "store", "http://127.0.0.1:9/")
    settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url=store.public_base_url,
                        local_store_root=store.root)
    publisher = Publisher(settings, store, None, None, tmp_path / "scratch")  # type: ignore[arg-type]
    keys = VersionKeys(SPEC.id, "2021")
    download = tmp_path / "raw" / "big.pmtiles"
    download.parent.mkdir()
    data = random.Random(7).randbytes(20 * MIB + 11)
    download.write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    archive_key = keys.archive("big.pmtiles")
    raw.archive_as_published(publisher, SPEC, "2021", archive_key, download, sha256)
    recorded = scratch.recorded_digests(sha256, len(data), piece_size_for(len(data)), v2=True)
    assert recorded is not None and recorded.md5 == hashlib.md5(data).hexdigest()
    assert known_digest(download).md5 == recorded.md5  # on the inode: the parquet step does not read it for this
    made = tmp_path / "parquet" / f"{keys.stem}.pmtiles"
    made.parent.mkdir()
    os.link(download, made)  # the prebuilt transform publishes the archived file itself
    mapped = []
    original = hashing._map
    monkeypatch.setattr(hashing, "_map", lambda fd, offset, length: mapped.append(length) or original(fd, offset, length))
    (facts,) = artifact.store_products(publisher, SPEC, "2021", [(made, "data")],
                                       archived=[({"sha256": sha256, "key": archive_key}, download)])
    assert mapped == []
    release = store.root / keys.release_file(made.name)
    assert release.read_bytes() == data and release.stat().st_ino == (store.root / archive_key).stat().st_ino
    assert (facts.sha256, facts.md5, facts.size) == (sha256, recorded.md5, len(data))
