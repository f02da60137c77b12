"""Issue 12.6 for the local folder store: keys are plain names and never lead out of the folder."""

from __future__ import annotations

import os

import pytest

from dfc_assets.storage import LocalFolderStore

SECRET = b"zenodo-token-not-for-you"


@pytest.fixture
def store(tmp_path):
    (tmp_path / "zenodo").mkdir()
    (tmp_path / "zenodo" / ".token").write_bytes(SECRET)
    store = LocalFolderStore(tmp_path / "store", "http://127.0.0.1:9/")
    (tmp_path / "store" / "releases").mkdir()
    os.symlink(tmp_path / "zenodo" / ".token", tmp_path / "store" / "releases" / "token.json")
    os.symlink(tmp_path / "zenodo", tmp_path / "store" / "state")
    return store


def test_a_symlink_out_of_the_folder_is_neither_read_nor_written(store, tmp_path):
    for key in ("releases/token.json", "state/.token"):
        with pytest.raises(ValueError, match="out of the store folder"):
            store.get_bytes(key)
        with pytest.raises(ValueError, match="out of the store folder"):
            store.head(key)
    with pytest.raises(ValueError, match="out of the store folder"):
        store.put_bytes("state/zenodo/x.json", b"{}")
    with pytest.raises(ValueError, match="out of the store folder"):
        store.create("state/lock.json", b"{}")
    assert not (tmp_path / "zenodo" / "zenodo").exists() and not (tmp_path / "zenodo" / "lock.json").exists()
    assert [info.key for info in store.list("")] == []


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/./b", "a/../b", "..", "a/", "key\n", "a\x00b", "a\\b", "tab\tkey"])
def test_keys_that_are_not_plain_names_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid object key"):
        store.put_bytes(key, b"x")
