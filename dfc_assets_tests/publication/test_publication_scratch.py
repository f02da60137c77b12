"""The host-local cache of a version's files: steps after `parquet` find them by sha256 instead of downloading."""

from __future__ import annotations

import hashlib

import pytest

from dfc_assets.publication.scratch import CacheMismatch, admit, cached, entry_path, evict, local_file
from dfc_assets.transform.manifest import ManifestFile


def manifest_file(name: str, data: bytes) -> ManifestFile:
    return ManifestFile(name, len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), "application/vnd.pmtiles")


def test_a_file_admitted_once_is_found_without_a_download_and_shares_its_disk_blocks(tmp_path):
    root = tmp_path / "cache"
    made = tmp_path / "parquet-step" / "d_1.pmtiles"
    made.parent.mkdir()
    made.write_bytes(b"tiles" * 1000)
    f = manifest_file("d_1.pmtiles", made.read_bytes())
    admit(made, f.sha256, root)
    assert entry_path(f.sha256, root).stat().st_ino == made.stat().st_ino  # a hard link: no second copy
    made.unlink()  # the step's scratch folder is removed

    def no_download(path):
        raise AssertionError("downloaded although the cache holds the file")

    for step in ("zenodo", "torrent"):
        path, hit = local_file(f, tmp_path / step, no_download, root=root)
        assert hit and path.name == "d_1.pmtiles" and path.read_bytes() == b"tiles" * 1000


def test_a_miss_downloads_once_and_checks_the_bytes(tmp_path):
    root = tmp_path / "cache"
    f = manifest_file("d_1.parquet", b"parquet bytes")
    downloads = []

    def download(path):
        downloads.append(path)
        path.write_bytes(b"parquet bytes")

    local_file(f, tmp_path / "a", download, root=root)
    local_file(f, tmp_path / "b", download, root=root)
    assert len(downloads) == 1 and cached(f.sha256, f.size, root) is not None


def test_wrong_bytes_from_the_store_are_refused_and_not_cached(tmp_path):
    root = tmp_path / "cache"
    f = manifest_file("d_1.parquet", b"expected")
    with pytest.raises(CacheMismatch, match="sha256"):
        local_file(f, tmp_path / "a", lambda path: path.write_bytes(b"tampered"), root=root)
    assert cached(f.sha256, f.size, root) is None and not list((tmp_path / "a").iterdir())


def test_evict_frees_the_entries(tmp_path):
    root = tmp_path / "cache"
    made = tmp_path / "x"
    made.write_bytes(b"12345")
    f = manifest_file("x", b"12345")
    admit(made, f.sha256, root)
    assert evict([f.sha256], root) == 5 and cached(f.sha256, f.size, root) is None
    assert evict([f.sha256], root) == 0


def test_entries_left_by_runs_that_never_finished_are_swept(tmp_path):
    import time

    from dfc_assets.publication.scratch import sweep

    root = tmp_path / "cache"
    made = tmp_path / "old"
    made.write_bytes(b"left behind")
    f = manifest_file("old", b"left behind")
    admit(made, f.sha256, root)
    assert sweep(root, max_age_hours=1) == 0  # just admitted
    assert sweep(root, max_age_hours=1, now=time.time() + 2 * 3600) == len(b"left behind")
    assert cached(f.sha256, f.size, root) is None
