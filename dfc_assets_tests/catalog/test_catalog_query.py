"""DuckDB recipes on a catalog of several datasets and versions, on a local path and over loopback HTTP with Range."""

from __future__ import annotations

import pytest

from dfc_assets.catalog import query
from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog.geoparquet import write_catalog
from dfc_assets.catalog.item import build_item
from dfc_assets_tests.catalog.catalog_http import counting_file_server
from dfc_assets_tests.catalog.catalog_samples import BOUNDARIES, MONTREAL_BBOX, STATCAN_TABLE, dataset_facts, version_facts

VANCOUVER = "ca_vancouver_trees"
VANCOUVER_BBOX = (-123.23, 49.2, -123.02, 49.32)
TABLE_VERSIONS = ("2021.9", "2021.10", "2021", "2022")  # release order: 2021, 2021.9, 2021.10, 2022


@pytest.fixture(scope="module")
def catalog_path(tmp_path_factory):
    items = [build_item(version_facts(STATCAN_TABLE, v, record=100 + i, mirrors=i % 3)) for i, v in enumerate(TABLE_VERSIONS)]
    items += [build_item(version_facts(BOUNDARIES, v, record=200 + i, bbox=MONTREAL_BBOX)) for i, v in enumerate(("2016", "2021"))]
    items += [build_item(version_facts(VANCOUVER, "2024-01-05", record=300, bbox=VANCOUVER_BBOX))]
    collections = [build_collection(dataset_facts(d), [i for i in items if i["collection"] == d]) for d in (STATCAN_TABLE, BOUNDARIES, VANCOUVER)]
    path = tmp_path_factory.mktemp("catalog") / "dfc-catalog.parquet"
    write_catalog(items, collections, path)
    return path


@pytest.fixture(scope="module")
def served(catalog_path):
    server, log = counting_file_server(catalog_path.parent)
    server.start()
    yield f"{server.base_url}/{catalog_path.name}", log
    server.stop()


@pytest.fixture(params=["local", "http"])
def source(request, catalog_path, served):
    return str(catalog_path) if request.param == "local" else served[0]


def test_all_versions_of_a_dataset_in_release_order(source):
    rows = query.all_versions(source, STATCAN_TABLE)
    assert [r["version"] for r in rows] == ["2021", "2021.9", "2021.10", "2022"]
    assert [r["deprecated"] for r in rows] == [True, True, True, False]
    assert rows[0]["doi"] == "10.5281/zenodo.102" and rows[0]["zenodo_url"].startswith("https://zenodo.org/records/102/files/")


def test_latest_doi_and_latest_for_an_older_doi(source):
    assert query.latest_doi(source, STATCAN_TABLE) == "10.5281/zenodo.103"
    assert query.latest_doi(source, BOUNDARIES) == "10.5281/zenodo.201"
    assert query.latest_doi(source, "no-such-dataset") is None
    older = query.latest_for_doi(source, "10.5281/zenodo.100")
    assert older["latest_version"] == "2022" and older["latest_doi"] == "10.5281/zenodo.103" and older["is_latest"] is False
    assert query.latest_for_doi(source, "10.5281/zenodo.103")["is_latest"] is True


def test_items_intersecting_a_bbox(source):
    montreal_island = (-73.7, 45.45, -73.5, 45.6)
    hits = query.intersecting_bbox(source, montreal_island)
    assert {(r["collection"], r["version"]) for r in hits} == {(STATCAN_TABLE, v) for v in TABLE_VERSIONS} | {(BOUNDARIES, "2016"), (BOUNDARIES, "2021")}
    latest = query.intersecting_bbox(source, montreal_island, latest_only=True)
    assert sorted(r["doi"] for r in latest) == ["10.5281/zenodo.103", "10.5281/zenodo.201"]
    assert [r["collection"] for r in query.intersecting_bbox(source, (-123.1, 49.25, -123.05, 49.3), latest_only=True)] == [STATCAN_TABLE, VANCOUVER]
    assert query.intersecting_bbox(source, (10.0, 10.0, 11.0, 11.0)) == []


def test_download_links_by_doi_or_id(source):
    by_doi = query.download_links(source, "10.5281/zenodo.102")
    by_id = query.download_links(source, f"{STATCAN_TABLE}_2021")
    assert by_doi == by_id
    assert by_doi["release_url"].endswith(f"/releases/{STATCAN_TABLE}/2021/{STATCAN_TABLE}_2021.parquet")
    assert len(by_doi["mirror_urls"]) == 2 and all(u.startswith("https://mirror") for u in by_doi["mirror_urls"])
    assert by_doi["magnet"].startswith("magnet:?xt=urn:btih:") and by_doi["torrent_url"].endswith(".parquet.torrent")
    assert by_doi["checksum_multihash"].startswith("1220") and len(by_doi["checksum_multihash"]) == 68
    assert query.download_links(source, "10.5281/zenodo.999999") is None


def test_footer_lists_the_collections(source):
    footer = query.footer(source)
    assert footer["version"] == "1.0.0"
    assert sorted(footer["collections"]) == sorted([STATCAN_TABLE, BOUNDARIES, VANCOUVER])


def test_http_reads_use_range_requests_not_whole_file(catalog_path, served):
    url, log = served
    log.clear()
    assert query.latest_doi(url, STATCAN_TABLE) == "10.5281/zenodo.103"
    gets = [r for r in log.requests if r[0] == "GET"]
    assert gets and all(r[1] and r[1].startswith("bytes=") for r in gets)


def test_missing_local_catalog_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="build it first"):
        query.all_versions(tmp_path / "nope.parquet", STATCAN_TABLE)
