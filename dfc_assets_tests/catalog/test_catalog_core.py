"""Items for two versions -> STAC GeoParquet -> back, read by our reader, geopandas, pyarrow, DuckDB and pystac."""

from __future__ import annotations

import base64
import copy
import json
import random

import duckdb
import geopandas
import pyarrow.parquet as pq
import pystac
import pytest
import shapely

from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog.geoparquet import read_catalog, read_footer, read_geo_metadata, write_catalog
from dfc_assets.catalog.item import build_item
from dfc_assets.catalog.rows import ItemSchemaError
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA
from dfc_assets.catalog.validate import StacValidationError, validate_collection, validate_footer, validate_item
from dfc_assets.catalog.version_links import link_versions
from dfc_assets_tests.catalog.catalog_samples import (
    BOUNDARIES, MONTREAL_BBOX, STATCAN_TABLE, dataset_facts, version_facts, without_reference_period,
)

OLD, NEW = "2024-06-11", "2025-06-11"


def _links(item: dict, rel: str) -> list[str]:
    return [l["href"] for l in item["links"] if l["rel"] == rel]


@pytest.fixture
def two_versions() -> list[dict]:
    # Given newest first on purpose: order must come from the version keys, not from the input.
    return [build_item(version_facts(version=NEW, record=1002)), build_item(version_facts(version=OLD, record=1001))]


@pytest.fixture
def written(tmp_path, two_versions):
    collection = build_collection(dataset_facts(), two_versions)
    return write_catalog(two_versions, [collection], tmp_path / "catalog" / "dfc-catalog.parquet"), two_versions, collection


def test_two_versions_round_trip_with_version_links(written):
    catalog, originals, _ = written
    assert catalog.rows == 2 and catalog.path.exists() and catalog.size == catalog.path.stat().st_size
    back = read_catalog(catalog.path)
    assert [i["properties"]["version"] for i in back] == [OLD, NEW]
    old, new = back
    assert old["properties"]["deprecated"] is True and new["properties"]["deprecated"] is False
    old_id, new_id = f"{STATCAN_TABLE}_{OLD}", f"{STATCAN_TABLE}_{NEW}"
    assert _links(old, "successor-version") == [f"./{new_id}.json"] and _links(old, "predecessor-version") == []
    assert _links(new, "predecessor-version") == [f"./{old_id}.json"] and _links(new, "successor-version") == []
    assert _links(old, "latest-version") == _links(new, "latest-version") == [f"./{new_id}.json"]
    # Apart from what link_versions adds, items come back exactly as written: no invented nulls, same text.
    assert back == link_versions(originals)
    assert "languages" in new["properties"] and None not in new["assets"]["torrent"].values()


@pytest.mark.filterwarnings("ignore::pystac.errors.DeprecatedWarning")
def test_every_item_and_the_footer_validate_offline(written):
    catalog, _, collection = written
    for item in read_catalog(catalog.path):
        validate_item(item)
        assert pystac.Item.from_dict(item).properties["sci:doi"].startswith("10.5281/zenodo.")
    footer = read_footer(catalog.path)
    assert list(footer["collections"]) == [STATCAN_TABLE] and footer["collections"][STATCAN_TABLE] == collection
    validate_footer(footer)


def test_items_without_optional_fields_round_trip_without_nulls(tmp_path):
    sparse = build_item(without_reference_period(version_facts()))
    validate_item(sparse)
    catalog = write_catalog([sparse], [build_collection(dataset_facts(), [sparse])], tmp_path / "c.parquet")
    (back,) = read_catalog(catalog.path)
    assert back == link_versions([sparse])[0]
    assert back["properties"]["datetime"] == sparse["properties"]["datetime"]
    assert "start_datetime" not in back["properties"] and "dfc:infohash_v2" not in back["assets"]["torrent"]
    assert "mirror-1" not in back["assets"]["data"]["alternate"]


def test_geopandas_pyarrow_and_duckdb_read_the_file(written):
    catalog, _, _ = written
    frame = geopandas.read_parquet(catalog.path)
    assert len(frame) == 2 and frame.crs.to_string() == "OGC:CRS84" and frame.geometry.iloc[0].geom_type == "Polygon"
    table = pq.read_table(catalog.path)
    assert table.schema.equals(CATALOG_SCHEMA) and table.num_rows == 2
    con = duckdb.connect()
    rows = con.execute(
        "SELECT version, \"sci:doi\", deprecated, assets.data.alternate.magnet.href, bbox.xmin "
        "FROM read_parquet(?) ORDER BY version", [str(catalog.path)]
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(OLD, "10.5281/zenodo.1001", True), (NEW, "10.5281/zenodo.1002", False)]
    assert rows[0][3].startswith("magnet:?xt=urn:btih:") and rows[0][4] == -141.01


def test_geo_metadata_is_geoparquet_1_1_with_bbox_covering(written):
    catalog, _, _ = written
    geo = read_geo_metadata(catalog.path)
    column = geo["columns"]["geometry"]
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    assert column["encoding"] == "WKB" and column["geometry_types"] == ["Polygon"] and "crs" not in column
    assert column["covering"]["bbox"] == {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}
    assert column["bbox"] == [-141.01, 41.68, -52.62, 83.11]
    metadata = pq.read_metadata(catalog.path)
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    # The collections live once in the footer, not duplicated inside ARROW:schema.
    footer = metadata.metadata
    assert set(footer) >= {b"geo", b"stac-geoparquet"}
    assert b"stac-geoparquet" not in base64.b64decode(footer.get(b"ARROW:schema", b""))


def test_schema_and_bytes_do_not_depend_on_item_order(tmp_path):
    items = [build_item(version_facts(dataset, v, record=r, bbox=bbox, mirrors=m))
             for dataset, bbox in ((STATCAN_TABLE, (-141.01, 41.68, -52.62, 83.11)), (BOUNDARIES, MONTREAL_BBOX))
             for r, (v, m) in enumerate((("2021", 0), ("2021.1", 2), ("2021.10", 1), ("2022", 3)), start=1)]
    items.append(build_item(without_reference_period(version_facts(BOUNDARIES, "2023", record=99))))
    collections = [build_collection(dataset_facts(d), [i for i in items if i["collection"] == d]) for d in (STATCAN_TABLE, BOUNDARIES)]
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    a = write_catalog(items, collections, tmp_path / "a.parquet")
    b = write_catalog(shuffled, collections[::-1], tmp_path / "b.parquet")
    assert pq.read_schema(a.path).equals(pq.read_schema(b.path)) and pq.read_schema(a.path).equals(CATALOG_SCHEMA)
    assert a.sha256 == b.sha256
    back = read_catalog(a.path)
    assert [(i["collection"], i["properties"]["version"]) for i in back][:5] == [
        (BOUNDARIES, "2021"), (BOUNDARIES, "2021.1"), (BOUNDARIES, "2021.10"), (BOUNDARIES, "2022"), (BOUNDARIES, "2023")]
    assert [i["properties"]["deprecated"] for i in back if i["collection"] == STATCAN_TABLE] == [True, True, True, False]


def test_a_field_outside_the_pinned_schema_is_refused_not_dropped(tmp_path):
    item = build_item(version_facts())
    item["properties"]["dfc:surprise"] = 1
    with pytest.raises(ItemSchemaError, match=r"dfc:surprise.*table_schema\.py"):
        write_catalog([item], [build_collection(dataset_facts(), [item])], tmp_path / "c.parquet")
    assert not (tmp_path / "c.parquet").exists()


def test_a_bad_item_fails_validation_naming_item_and_rule():
    item = build_item(version_facts())
    bad = copy.deepcopy(item)
    bad["assets"]["data"]["file:checksum"] = "NOT-HEX"
    with pytest.raises(StacValidationError, match=rf"(?s){item['id']}.*file/v2\.1\.0.*file:checksum"):
        validate_item(bad)
    no_collection_link = copy.deepcopy(item)
    del no_collection_link["links"][0]
    with pytest.raises(StacValidationError, match=rf"(?s){item['id']}.*link with rel 'collection' is required"):
        validate_item(no_collection_link)
    no_doi = copy.deepcopy(item)
    del no_doi["properties"]["sci:doi"], no_doi["properties"]["sci:citation"]
    with pytest.raises(StacValidationError, match=r"scientific/v1\.0\.0.*'sci:doi' is a required property"):
        validate_item(no_doi)


def test_an_alternate_without_href_fails_our_own_rule():
    item = build_item(version_facts())
    item["assets"]["data"]["alternate"]["magnet"] = {"alternate:name": "magnet"}
    with pytest.raises(StacValidationError, match=r"alternate-has-href: assets/data/alternate/magnet has no href"):
        validate_item(item)


def test_an_extension_schema_that_is_not_vendored_is_an_error_not_a_download():
    item = build_item(version_facts())
    item["stac_extensions"].append("https://stac-extensions.github.io/projection/v2.0.0/schema.json")
    with pytest.raises(StacValidationError, match="not vendored"):
        validate_item(item)


def test_collection_extent_covers_every_version_and_validates():
    items = [build_item(version_facts(version="2021", bbox=MONTREAL_BBOX)), build_item(version_facts(version="2024"))]
    collection = build_collection(dataset_facts(), items)
    validate_collection(collection)
    assert collection["extent"]["spatial"]["bbox"] == [[-141.01, 41.68, -52.62, 83.11]]
    assert collection["extent"]["temporal"]["interval"] == [["2021-01-01T00:00:00Z", "2024-12-31T23:59:59Z"]]
    assert collection["sci:doi"] == "10.5281/zenodo.1000" and collection["assets"]["latest"]["href"].endswith(f"processed/{STATCAN_TABLE}.parquet")
    assert json.dumps(collection, ensure_ascii=False).count("Statistics Canada") == 1


def test_duplicate_versions_are_refused_naming_the_dataset():
    item = build_item(version_facts())
    with pytest.raises(ValueError, match=STATCAN_TABLE):
        link_versions([item, copy.deepcopy(item)])


def test_geometry_survives_as_the_real_footprint(written):
    catalog, originals, _ = written
    (first, _) = read_catalog(catalog.path)
    assert shapely.geometry.shape(first["geometry"]).equals(shapely.geometry.shape(originals[0]["geometry"]))


def test_an_unknown_asset_or_alternate_field_is_refused_with_its_path(tmp_path):
    item = build_item(version_facts())
    item["assets"]["data"]["alternate"]["ipfs"] = {"href": "ipfs://bafy"}
    with pytest.raises(ItemSchemaError, match=r"assets/data/alternate/ipfs"):
        write_catalog([item], [build_collection(dataset_facts(), [item])], tmp_path / "c.parquet")


def test_collections_leave_the_footer_when_they_outgrow_its_budget(tmp_path, monkeypatch, two_versions):
    from dfc_assets.catalog import geoparquet

    monkeypatch.setattr(geoparquet, "FOOTER_COLLECTIONS_BUDGET", 100)
    catalog = write_catalog(two_versions, [build_collection(dataset_facts(), two_versions)], tmp_path / "c.parquet")
    assert read_footer(catalog.path) == {"version": "1.0.0", "collections": {}}
    assert len(read_catalog(catalog.path)) == 2
