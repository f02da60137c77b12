"""`dfc catalog` on a catalog written here: in an embedded-default work folder and over a loopback Range server."""

from __future__ import annotations

import json

import pytest

from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog.geoparquet import write_catalog
from dfc_assets.catalog.item import build_item
from dfc_assets.cli.catalog import default_catalog
from dfc_assets.cli.main import main
from dfc_assets.services.static_files import file_server
from dfc_assets_tests.catalog.catalog_samples import BOUNDARIES, MONTREAL_BBOX, STATCAN_TABLE, dataset_facts, version_facts

TABLE_VERSIONS = ("2024-01-10", "2023-06-01", "2025-06-11")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dfc")
    items = [build_item(version_facts(STATCAN_TABLE, v, record=500 + i, mirrors=2)) for i, v in enumerate(TABLE_VERSIONS)]
    items += [build_item(version_facts(BOUNDARIES, v, record=600 + i, bbox=MONTREAL_BBOX, mirrors=0)) for i, v in enumerate(("2016", "2021"))]
    collections = [build_collection(dataset_facts(d), [i for i in items if i["collection"] == d]) for d in (STATCAN_TABLE, BOUNDARIES)]
    write_catalog(items, collections, default_catalog(folder))
    return folder


@pytest.fixture(scope="module")
def catalog_url(workdir):
    server = file_server(workdir / "store").start()
    yield f"{server.base_url}/catalog/dfc-catalog.parquet"
    server.stop()


@pytest.fixture(params=["workdir", "url"])
def where(request, workdir, catalog_url):
    """The options that point `dfc catalog` at the file: the embedded default's folder, or the URL."""
    return ["--workdir", str(workdir)] if request.param == "workdir" else ["--catalog", catalog_url]


def dfc_json(capsys, *argv: str):
    assert main(["catalog", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_versions_in_release_order_with_the_latest_last(capsys, where):
    rows = dfc_json(capsys, "versions", STATCAN_TABLE, *where)
    assert [(r["version"], r["doi"], r["deprecated"]) for r in rows] == [
        ("2023-06-01", "10.5281/zenodo.501", True), ("2024-01-10", "10.5281/zenodo.500", True), ("2025-06-11", "10.5281/zenodo.502", False),
    ]
    assert rows[0]["published"].startswith("2023-06-11T08:30:00")


def test_latest_by_dataset_id_or_registry_key(capsys, where):
    latest = dfc_json(capsys, "latest", STATCAN_TABLE, *where)
    assert latest["version"] == "2025-06-11" and latest["doi"] == "10.5281/zenodo.502" and latest["concept_doi"] == "10.5281/zenodo.1000"
    assert dfc_json(capsys, "latest", "statcan_table_33100036", *where) == latest


def test_doi_of_an_old_version_leads_to_the_latest(capsys, where):
    answer = dfc_json(capsys, "doi", "10.5281/zenodo.600", *where)
    assert answer == {"asked_id": f"{BOUNDARIES}_2016", "latest_id": f"{BOUNDARIES}_2021", "latest_version": "2021",
                      "latest_doi": "10.5281/zenodo.601", "is_latest": False}


def test_bbox_takes_negative_longitudes(capsys, where):
    island = ["-73.7", "45.45", "-73.5", "45.6"]
    hits = dfc_json(capsys, "bbox", *island, *where)
    assert len(hits) == 5
    latest = dfc_json(capsys, "bbox", *island, "--latest", *where)
    assert sorted((r["collection"], r["version"]) for r in latest) == sorted([(STATCAN_TABLE, "2025-06-11"), (BOUNDARIES, "2021")])
    assert dfc_json(capsys, "bbox", "-123.1", "49.25", "-123.05", "49.3", "--latest", *where) == [
        {"id": f"{STATCAN_TABLE}_2025-06-11", "collection": STATCAN_TABLE, "version": "2025-06-11", "doi": "10.5281/zenodo.502",
         "deprecated": False, "bbox": [-141.01, 41.68, -52.62, 83.11]}]


def test_links_by_doi_or_item_id(capsys, where):
    by_doi = dfc_json(capsys, "links", "10.5281/zenodo.500", *where)
    assert dfc_json(capsys, "links", f"{STATCAN_TABLE}_2024-01-10", *where) == by_doi
    assert by_doi["zenodo_url"] == f"https://zenodo.org/records/500/files/{STATCAN_TABLE}_2024-01-10.parquet"
    assert by_doi["release_url"].endswith(f"/releases/{STATCAN_TABLE}/2024-01-10/{STATCAN_TABLE}_2024-01-10.parquet")
    assert len(by_doi["mirror_urls"]) == 2 and by_doi["magnet"].startswith("magnet:?xt=urn:btih:")
    assert by_doi["torrent_url"].endswith(".parquet.torrent") and by_doi["size"] == 123_456 + 500


def test_footer_has_both_collections(capsys, where):
    footer = dfc_json(capsys, "footer", *where)
    assert footer["version"] == "1.0.0" and sorted(footer["collections"]) == sorted([STATCAN_TABLE, BOUNDARIES])


def test_plain_output_is_one_line_per_version(capsys, where):
    assert main(["catalog", "versions", STATCAN_TABLE, *where]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("2025-06-11  10.5281/zenodo.502  latest")
    assert main(["catalog", "links", "10.5281/zenodo.600", *where]) == 0
    fields = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert fields["mirror_urls"] == "-" and fields["doi"] == "10.5281/zenodo.600"


def test_unknown_dataset_or_doi_exits_1_and_says_so(capsys, where):
    assert main(["catalog", "latest", "ca_nowhere", *where]) == 1
    assert "no published version of dataset 'ca_nowhere'" in capsys.readouterr().err
    assert main(["catalog", "links", "10.5281/zenodo.999", *where]) == 1
    assert "10.5281/zenodo.999" in capsys.readouterr().err
    assert main(["catalog", "bbox", "10", "10", "11", "11", *where, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_missing_catalog_exits_2_with_a_hint(capsys, tmp_path, catalog_url):
    assert main(["catalog", "footer", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(default_catalog(tmp_path)) in err and "dfc demo" in err
    missing_url = catalog_url.replace("dfc-catalog.parquet", "nope.parquet")
    assert main(["catalog", "versions", STATCAN_TABLE, "--catalog", missing_url]) == 2
    assert missing_url in capsys.readouterr().err
