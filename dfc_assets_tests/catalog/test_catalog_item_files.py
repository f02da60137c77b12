"""A version's other files and its v1 torrent on the STAC item: their own assets, valid, and through the catalog."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog.geoparquet import read_catalog, write_catalog
from dfc_assets.catalog.item import ExtraFile, TorrentV1, build_item
from dfc_assets.catalog.validate import validate_item

from .catalog_samples import BOUNDARIES, dataset_facts, version_facts

STEM = f"{BOUNDARIES}_2021"
TILES = ExtraFile(
    asset_key="tiles", file_name=f"{STEM}.pmtiles", media_type="application/vnd.pmtiles", roles=("data", "tiles", "visual"),
    size=65_479, sha256="ab" * 32, data_url=f"https://zenodo.org/records/7/files/{STEM}.pmtiles",
    release_url=f"http://127.0.0.1:9/dfc/releases/{BOUNDARIES}/2021/{STEM}.pmtiles",
    mirror_urls=(f"https://mirror1.example/releases/{BOUNDARIES}/2021/{STEM}.pmtiles",),
)
V1 = TorrentV1(url=f"http://127.0.0.1:9/dfc/releases/{BOUNDARIES}/2021/{STEM}.v1.torrent", size=700, sha256="cd" * 32, infohash_v1="ef" * 20)


def test_each_file_is_its_own_asset_with_size_and_checksum():
    item = build_item(replace(version_facts(BOUNDARIES, "2021"), extra_files=(TILES,), torrent_v1=V1))
    validate_item(item)
    tiles = item["assets"]["tiles"]
    assert tiles["type"] == "application/vnd.pmtiles" and tiles["roles"] == ["data", "tiles", "visual"]
    assert tiles["file:size"] == 65_479 and tiles["file:checksum"] == "1220" + "ab" * 32
    assert tiles["alternate"]["object-storage"]["href"] == TILES.release_url
    assert tiles["alternate"]["mirror-1"]["href"] == TILES.mirror_urls[0]
    v1 = item["assets"]["torrent-v1"]
    assert v1["dfc:infohash_v1"] == "ef" * 20 and v1["type"] == "application/x-bittorrent" and "dfc:infohash_v2" not in v1


def test_the_catalog_keeps_the_extra_assets(tmp_path):
    with_files = build_item(replace(version_facts(BOUNDARIES, "2021"), extra_files=(TILES,), torrent_v1=V1))
    plain = build_item(version_facts(BOUNDARIES, "2016", record=8))
    write_catalog([with_files, plain], [build_collection(dataset_facts(BOUNDARIES), [with_files, plain])], tmp_path / "catalog.parquet")
    back = {item["id"]: item for item in read_catalog(tmp_path / "catalog.parquet")}
    assert back[with_files["id"]]["assets"]["tiles"] == with_files["assets"]["tiles"]
    assert back[with_files["id"]]["assets"]["torrent-v1"] == with_files["assets"]["torrent-v1"]
    assert "tiles" not in back[plain["id"]]["assets"]


def test_two_files_for_one_asset_key_are_refused():
    facts = replace(version_facts(BOUNDARIES, "2021"), extra_files=(TILES, replace(TILES, file_name="other.pmtiles")))
    with pytest.raises(ValueError, match="at most one file per key"):
        build_item(facts)


def test_an_asset_key_outside_the_pinned_schema_is_refused():
    with pytest.raises(ValueError, match="asset key 'thumbnail'"):
        build_item(replace(version_facts(BOUNDARIES, "2021"), extra_files=(replace(TILES, asset_key="thumbnail"),)))
