"""Issue 13 end to end: a two-file version (GeoParquet + PMTiles) and a prebuilt PMTiles through
raw -> parquet -> zenodo_record -> torrent -> stac_item, and a truncated prebuilt file refused at raw."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timezone

import httpx
import pytest

from dfc_assets.publication.published import Published
from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import PREBUILT_PATH
from dfc_assets.storage import LocalFolderStore, VersionKeys

pytestmark = pytest.mark.e2e
SPECS = {spec.key: spec for spec in load_registry()}
BOUNDARY = SPECS["fixture_provinces_territories"]
PREBUILT = SPECS["fixture_provinces_territories_tiles"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def depositions(stack) -> list[int]:
    response = httpx.get(f"{stack.urls.zenodo_url}/api/deposit/depositions", params={"size": 100, "all_versions": "true"},
                         headers={"Authorization": f"Bearer {stack.urls.zenodo_token}"})
    response.raise_for_status()
    return sorted(d["id"] for d in response.json())


def published(stack) -> Published:
    return Published(LocalFolderStore(stack.store_root, stack.urls.store_url))


@pytest.fixture(scope="module")
def boundary(stack):
    result = stack.publish(BOUNDARY, "2022-02-09")
    assert result.success
    return published(stack).version(BOUNDARY.id, "2022-02-09")


@pytest.fixture(scope="module")
def prebuilt(stack):
    source = (stack.sources_root / PREBUILT_PATH).read_bytes()
    result = stack.publish(PREBUILT, "2025-08-10")
    assert result.success
    return source, published(stack).version(PREBUILT.id, "2025-08-10")


def test_a_boundary_version_is_two_files_everywhere(stack, boundary):
    keys = VersionKeys(BOUNDARY.id, "2022-02-09")
    assert [(f.name, f.role, f.media_type) for f in boundary.files] == [
        (keys.file_name("parquet"), "data", "application/vnd.apache.parquet"),
        (keys.file_name("pmtiles"), "tiles", "application/vnd.pmtiles"),
    ]
    for f in boundary.files:
        data = (stack.store_root / keys.release_file(f.name)).read_bytes()
        assert (len(data), sha256(data), hashlib.md5(data).hexdigest()) == (f.size, f.sha256, f.md5)
        zenodo = boundary.zenodo_file(f.name)
        assert zenodo is not None and zenodo.md5 == f.md5
        assert sha256(httpx.get(zenodo.url).content) == f.sha256
        alias = stack.store_root / f"processed/{BOUNDARY.id}.{f.extension}"
        assert sha256(alias.read_bytes()) == f.sha256
    assets = boundary.item["assets"]
    assert assets["data"]["title"] == keys.file_name("parquet")
    tiles = assets["tiles"]
    pmtiles = boundary.files[1]
    assert tiles["type"] == "application/vnd.pmtiles" and tiles["file:size"] == pmtiles.size
    assert tiles["file:checksum"] == "1220" + pmtiles.sha256
    assert "tiles" in tiles["roles"] and tiles["alternate"]["object-storage"]["href"].endswith(keys.release_file(pmtiles.name))
    pointer = published(stack).latest(BOUNDARY.id)
    assert pointer.version == "2022-02-09" and [f.name for f in pointer.files] == [f.name for f in boundary.files]


def test_a_prebuilt_file_is_published_as_it_is(stack, prebuilt):
    source, version = prebuilt
    (only,) = version.files
    assert only.name == VersionKeys(PREBUILT.id, "2025-08-10").file_name("pmtiles")
    assert only.sha256 == sha256(source) and only.media_type == "application/vnd.pmtiles"
    assert (stack.store_root / version.release_key(only.name)).read_bytes() == source
    assert version.fully_published and version.item["assets"]["data"]["type"] == "application/vnd.pmtiles"
    west, south, east, north = version.manifest.output.bbox
    assert -141.1 < west < -140.9 and 82.4 < north < 82.6
    assert version.item["bbox"] == pytest.approx([west, south, east, north], abs=1e-6)


def test_a_truncated_prebuilt_file_is_refused_at_raw_with_nothing_created(stack, prebuilt):
    source, _ = prebuilt
    target = stack.sources_root / PREBUILT_PATH
    target.write_bytes(source[: len(source) // 2])
    stamp = datetime(2025, 8, 12, 12, 0, tzinfo=timezone.utc).timestamp()
    os.utime(target, (stamp, stamp))
    depositions_before = depositions(stack)
    result = stack.publish(PREBUILT, "2025-08-12")
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "not a sound pmtiles file" in failure.event_specific_data.error.to_string()
    assert not [p for p in (stack.store_root / "archive" / PREBUILT.id).glob("2025-08-12/*")]
    assert not (stack.store_root / "releases" / PREBUILT.id / "2025-08-12").exists()
    assert depositions(stack) == depositions_before
    assert published(stack).latest_version(PREBUILT.id) == "2025-08-10"


def test_the_catalog_row_of_a_two_file_version_has_both_assets(stack, boundary, prebuilt):
    from dfc_assets.catalog.geoparquet import read_catalog
    from dfc_assets.storage import CATALOG

    assert stack.build_catalog().success
    items = {item["id"]: item for item in read_catalog(stack.store_root / CATALOG)}
    row = items[f"{BOUNDARY.id}_2022-02-09"]
    assert row["assets"]["tiles"] == boundary.item["assets"]["tiles"]
    assert row["assets"]["data"]["file:checksum"] == "1220" + boundary.files[0].sha256
    assert items[f"{PREBUILT.id}_2025-08-10"]["assets"]["data"]["type"] == "application/vnd.pmtiles"


def test_both_torrents_of_a_two_file_version_download_from_web_seeds_only(stack, boundary, tmp_path):
    from dfc_assets.torrent.download import download_from_web_seeds
    from dfc_assets.torrent.metainfo import read_torrent

    for torrent in (boundary.torrent, boundary.torrent_v1):
        assert torrent is not None
        info = read_torrent(torrent.data)
        assert sorted(f.file_name for f in info.data_files) == sorted(f.name for f in boundary.files)
        folder = download_from_web_seeds(torrent.data, tmp_path / torrent.flavour, timeout=120)
        for f in boundary.files:
            assert sha256((folder / f.name).read_bytes()) == f.sha256, (torrent.flavour, f.name)


def test_the_collection_of_a_prebuilt_dataset_links_its_latest_pmtiles(stack, prebuilt):
    import json as json_module

    assert stack.build_catalog().success
    collections = [p for p in (stack.store_root / "catalog" / "stac").rglob("collection.json") if PREBUILT.id in str(p)]
    (collection,) = [json_module.loads(p.read_text()) for p in collections]
    latest = collection["assets"]["latest"]
    assert latest["href"].endswith(f"processed/{PREBUILT.id}.pmtiles") and latest["type"] == "application/vnd.pmtiles"
    assert (stack.store_root / f"processed/{PREBUILT.id}.pmtiles").read_bytes() == prebuilt[0]
