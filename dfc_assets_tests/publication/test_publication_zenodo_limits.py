"""Issue 13.5's limits at the zenodo_record step: a version over Zenodo's 50 GB per record (a sparse file of
50 GB + 1 byte under releases/) or over its 100 files is refused from the manifest's sizes, before any request
to Zenodo and before any byte is downloaded: no draft, no journal, no record, an empty scratch folder."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from dfc_assets.publication.zenodo_record import publish_zenodo
from dfc_assets.storage import VersionKeys
from dfc_assets.storage.media_types import media_type_for
from dfc_assets.transform.manifest import ManifestFile, OutputFacts, build_manifest
from dfc_assets.zenodo import PublishError, ZenodoClient, ZenodoEmulator

from .published_versions import SPEC, make_publisher

VERSION = "2025-09-01"
OVER_50_GB = 50_000_000_001


@pytest.fixture
def emulator(tmp_path):
    with ZenodoEmulator(tmp_path / "zenodo", token="t") as server:
        yield server


@pytest.fixture
def publisher(tmp_path, emulator):
    with ZenodoClient(emulator.base_url, "t", timeout=10, backoff=0.01) as client:
        yield replace(make_publisher(tmp_path / "store", tmp_path / "scratch"), zenodo=client)


def released(publisher, sizes: dict[str, int]) -> None:
    """Files of these sizes under releases/ (sparse: nothing is written) and a manifest listing them."""
    keys = VersionKeys(SPEC.id, VERSION)
    files = []
    for name, size in sizes.items():
        path = publisher.store.root / keys.release_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.truncate(size)
        digest = hashlib.sha256(name.encode()).hexdigest()  # never read: the step must refuse before hashing anything
        files.append(ManifestFile(name, size, digest, None, media_type_for(name), "data" if not files else "tiles"))
    output = OutputFacts(files[0].name, files[0].sha256, files[0].size, rows=1)
    manifest = build_manifest(dataset_id=SPEC.id, version=VERSION, sources=[], output=output, files=files, code_version="c", configuration={})
    publisher.store.put_bytes(keys.manifest, manifest.to_bytes())


@pytest.mark.parametrize("case", ["over 50 GB", "over 100 files"])
def test_a_version_over_zenodos_limits_is_refused_before_any_draft(publisher, emulator, case):
    keys = VersionKeys(SPEC.id, VERSION)
    if case == "over 50 GB":
        released(publisher, {keys.file_name("parquet"): 1_000, keys.file_name("pmtiles"): OVER_50_GB})
        words = f"{keys.file_name('pmtiles')} is 50.00 GB, over Zenodo's 50 GB per record"
    else:
        released(publisher, {keys.file_name("parquet"): 10, **{f"{keys.stem}.part{n:03}.parquet": 10 for n in range(100)}})
        words = "102 files, more than Zenodo's 100 files per record"  # the manifest is a file of the record too
    with pytest.raises(PublishError) as refused:
        publish_zenodo(publisher, SPEC, VERSION)
    assert f"{SPEC.key}" in str(refused.value) and VERSION in str(refused.value) and words in str(refused.value), str(refused.value)
    assert emulator.requests == []
    assert not publisher.store.head(keys.zenodo_record) and not publisher.store.head(keys.zenodo_journal)
    scratch = publisher.scratch
    assert not scratch.exists() or not [p for p in scratch.rglob("*") if p.is_file()]
