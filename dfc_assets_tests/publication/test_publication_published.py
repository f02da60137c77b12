"""The read side: what the store holds for a dataset version, typed, from keys.py's layout only."""

from __future__ import annotations

import json

import pytest

from dfc_assets.publication.published import Published, PublishedStateError
from dfc_assets.storage import VersionKeys
from dfc_assets.storage.keys import parse_version_key

from .published_versions import SPEC, make_publisher, put_version


@pytest.fixture
def publisher(tmp_path):
    return make_publisher(tmp_path / "store", tmp_path / "scratch")


def test_versions_in_release_order_and_each_version_whole(publisher):
    put_version(publisher, "2021", {"parquet": b"p2021", "pmtiles": b"t2021"})
    put_version(publisher, "2016", {"parquet": b"p2016"}, record=False, torrent=False)
    put_version(publisher, "2021.1", {"parquet": b"p2021.1"}, manifest=False, record=False, torrent=False)
    published = Published(publisher.store)
    assert published.versions(SPEC.id) == ["2016", "2021", "2021.1"]
    assert published.versions_on_zenodo(SPEC.id) == ["2021"]

    v2021 = published.version(SPEC.id, "2021")
    assert v2021.fully_published and v2021.has_files and not v2021.missing_files
    assert [(f.name, f.role, f.media_type) for f in v2021.files] == [
        (f"{SPEC.id}_2021.parquet", "data", "application/vnd.apache.parquet"),
        (f"{SPEC.id}_2021.pmtiles", "tiles", "application/vnd.pmtiles"),
    ]
    assert v2021.zenodo_file(f"{SPEC.id}_2021.pmtiles").size == 5
    assert v2021.torrent.key == VersionKeys(SPEC.id, "2021").torrent and v2021.torrent_v1 is None
    assert published.concept_recid(SPEC.id) == "99"

    v2016 = published.version(SPEC.id, "2016")
    assert v2016.has_files and not v2016.fully_published and v2016.record is None
    v2021_1 = published.version(SPEC.id, "2021.1")
    assert v2021_1.manifest is None and not v2021_1.has_files
    assert [v.version for v in published.all_versions(SPEC.id)] == ["2016", "2021", "2021.1"]


def test_a_file_the_manifest_lists_but_the_store_lacks_is_not_an_artifact(publisher):
    put_version(publisher, "2021", {"parquet": b"p", "pmtiles": b"t"})
    keys = VersionKeys(SPEC.id, "2021")
    publisher.store.delete(keys.release_file(keys.file_name("pmtiles")))
    version = Published(publisher.store).version(SPEC.id, "2021")
    assert version.missing_files == (keys.file_name("pmtiles"),) and not version.has_files and not version.fully_published


def test_a_corrupt_manifest_is_an_error_not_absence(publisher):
    keys = VersionKeys(SPEC.id, "2021")
    publisher.store.put_bytes(keys.manifest, b"{not json")
    with pytest.raises(PublishedStateError, match=f"dataset {SPEC.id} version 2021"):
        Published(publisher.store).manifest(SPEC.id, "2021")


@pytest.mark.parametrize("what", ["manifest", "zenodo_record", "stac_item", "raw_index", "pointer"])
@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"unexpected": true}'])
def test_every_document_that_is_there_but_does_not_parse_is_an_error_naming_it(publisher, what, content):
    from dfc_assets.storage.keys import processed_pointer

    keys = VersionKeys(SPEC.id, "2021")
    key = processed_pointer(SPEC.id) if what == "pointer" else getattr(keys, what)
    publisher.store.put_bytes(key, content)
    published = Published(publisher.store)
    read = {"manifest": published.manifest, "zenodo_record": published.record, "stac_item": published.item,
            "raw_index": published.raw_index, "pointer": lambda d, v: published.latest(d)}[what]
    if what in ("stac_item", "raw_index") and content.startswith(b"{\""):
        assert read(SPEC.id, "2021") == {"unexpected": True}  # any object: their shape is checked where they are made
        return
    with pytest.raises(PublishedStateError, match=f"dataset {SPEC.id}.*: {key} does not parse"):
        read(SPEC.id, "2021")


def test_a_manifest_of_another_version_is_refused(publisher):
    put_version(publisher, "2016", {"parquet": b"p"})
    keys16, keys21 = VersionKeys(SPEC.id, "2016"), VersionKeys(SPEC.id, "2021")
    publisher.store.put_bytes(keys21.manifest, publisher.store.get_bytes(keys16.manifest))
    with pytest.raises(PublishedStateError, match="describes .* version 2016"):
        Published(publisher.store).manifest(SPEC.id, "2021")


def test_keys_outside_the_layout_are_not_versions(publisher):
    put_version(publisher, "2021", {"parquet": b"p"})
    publisher.store.put_bytes(f"releases/{SPEC.id}/stray.txt", b"x")
    publisher.store.put_bytes(f"releases/{SPEC.id}/bad version/x", b"x")
    publisher.store.put_bytes(f"releases/{SPEC.id}_other/2020/x", b"x")
    assert Published(publisher.store).versions(SPEC.id) == ["2021"]
    assert parse_version_key(f"releases/{SPEC.id}/2021/a/b") is None
    assert parse_version_key(f"archive/{SPEC.id}/2021/a.zip", top="archive/").name == "a.zip"


def test_torrent_keys_across_datasets(publisher):
    put_version(publisher, "2021", {"parquet": b"p"})
    put_version(publisher, "2016", {"parquet": b"q"}, torrent=False)
    found = Published(publisher.store).torrent_keys()
    assert [(k.dataset_id, k.version) for k in found] == [(SPEC.id, "2021")]


def test_format_1_pointer_reads(publisher):
    keys = VersionKeys(SPEC.id, "2021")
    publisher.store.put_bytes(f"processed/{SPEC.id}.json", json.dumps({"dataset_id": SPEC.id, "version": "2021", "sha256": "a" * 64, "size": 3}).encode())
    pointer = Published(publisher.store).latest(SPEC.id)
    assert pointer.version == "2021" and pointer.files[0].release_key == keys.artifact and pointer.sha256 == "a" * 64


def test_complete_manifest_only_when_every_file_is_there(publisher):
    put_version(publisher, "2021", {"parquet": b"p", "pmtiles": b"t"})
    published = Published(publisher.store)
    assert [f.name for f in published.complete_manifest(SPEC.id, "2021").files] == [
        VersionKeys(SPEC.id, "2021").file_name("parquet"), VersionKeys(SPEC.id, "2021").file_name("pmtiles")]
    keys = VersionKeys(SPEC.id, "2021")
    publisher.store.delete(keys.release_file(keys.file_name("parquet")))
    assert published.complete_manifest(SPEC.id, "2021") is None
    assert published.complete_manifest(SPEC.id, "2030") is None


@pytest.mark.parametrize("one_list_from", [1, 1000], ids=["one-list-of-releases", "a-list-per-version"])
def test_finished_versions_have_their_item_and_processed_at_them_or_newer(publisher, monkeypatch, one_list_from):
    from dfc_assets.publication import published as module
    from dfc_assets.storage.keys import processed_pointer

    monkeypatch.setattr(module, "ONE_LIST_FROM", one_list_from)
    for version in ("2016", "2021", "2021.1", "2022"):
        put_version(publisher, version, {"parquet": version.encode()}, torrent=version != "2022")
    for version in ("2016", "2021", "2021.1"):  # 2022 stopped after zenodo_record: no torrent, no item
        publisher.store.put_bytes(VersionKeys(SPEC.id, version).stac_item, b"{}")
    pointer = {"dataset_id": SPEC.id, "version": "2021", "files": []}
    publisher.store.put_bytes(processed_pointer(SPEC.id), json.dumps(pointer).encode())
    asked = [(SPEC.id, v) for v in ("2016", "2021", "2021.1", "2022", "2030")] + [("other_dataset", "2021")]
    # 2021.1 has its item but processed/ was never moved to it (stopped inside stac_item): not finished
    assert Published(publisher.store).finished(asked) == {(SPEC.id, "2016"), (SPEC.id, "2021")}
