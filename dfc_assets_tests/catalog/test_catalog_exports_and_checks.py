"""Static STAC JSON export, and the blocking checks on a written catalog file."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pystac
import pytest

from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog.file_checks import CatalogFileError, verify_catalog_file
from dfc_assets.catalog.geoparquet import write_catalog
from dfc_assets.catalog.item import build_item
from dfc_assets.catalog.stac_json import write_stac_json
from dfc_assets.catalog.validate import validate_catalog, validate_collection, validate_item
from dfc_assets_tests.catalog.catalog_samples import BOUNDARIES, MONTREAL_BBOX, STATCAN_TABLE, dataset_facts, version_facts


@pytest.fixture
def catalog_parts():
    items = [build_item(version_facts(STATCAN_TABLE, v, record=10 + i)) for i, v in enumerate(("2022", "2021"))]
    items.append(build_item(version_facts(BOUNDARIES, "2021", record=20, bbox=MONTREAL_BBOX)))
    collections = [build_collection(dataset_facts(d), [i for i in items if i["collection"] == d]) for d in (STATCAN_TABLE, BOUNDARIES)]
    return items, collections


@pytest.mark.filterwarnings("ignore::pystac.errors.DeprecatedWarning")
def test_stac_json_export_browses_with_pystac_and_validates(tmp_path, catalog_parts):
    items, collections = catalog_parts
    files = write_stac_json(items, collections, tmp_path / "stac", geoparquet_url="http://127.0.0.1:9/dfc/catalog/dfc-catalog.parquet")
    assert files[0].name == "catalog.json" and len(files) == 1 + 2 + 3
    validate_catalog(json.loads(files[0].read_text()))
    for path in files[1:]:
        document = json.loads(path.read_text())
        (validate_collection if document["type"] == "Collection" else validate_item)(document)
    root = pystac.Catalog.from_file(str(files[0]))
    walked = {item.id: item for item in root.get_items(recursive=True)}
    assert set(walked) == {i["id"] for i in items}
    older = walked[f"{STATCAN_TABLE}_2021"]
    assert older.get_single_link("successor-version").get_absolute_href().endswith(f"/stac/{STATCAN_TABLE}/{STATCAN_TABLE}_2022.json")
    assert older.get_collection().id == STATCAN_TABLE and older.properties["deprecated"] is True
    collection = json.loads((tmp_path / "stac" / STATCAN_TABLE / "collection.json").read_text())
    assert collection["assets"]["geoparquet-items"]["roles"] == ["collection-mirror"]


def test_a_conformant_catalog_file_passes_the_blocking_checks(tmp_path, catalog_parts):
    items, collections = catalog_parts
    written = write_catalog(items, collections, tmp_path / "c.parquet")
    assert verify_catalog_file(written.path) == 3


def _rewrite(path, out, *, geo=None, table_edit=None):
    table = pq.read_table(path)
    metadata = dict(pq.read_metadata(path).metadata)
    if geo is not None:
        metadata[b"geo"] = json.dumps(geo).encode()
    if table_edit:
        table = table_edit(table)
    pq.write_table(table.replace_schema_metadata(metadata), out)
    return out


def test_a_wrong_geo_declaration_fails_the_geoparquet_validator(tmp_path, catalog_parts):
    items, collections = catalog_parts
    written = write_catalog(items, collections, tmp_path / "c.parquet")
    geo = json.loads(pq.read_metadata(written.path).metadata[b"geo"])
    geo["columns"]["geometry"]["geometry_types"] = ["Point"]
    broken = _rewrite(written.path, tmp_path / "broken.parquet", geo=geo)
    with pytest.raises(CatalogFileError, match=r"(?s)broken\.parquet must not be published.*GeoParquet /conf/core/"):
        verify_catalog_file(broken)


def test_two_current_versions_of_one_dataset_fail_the_relation_check(tmp_path, catalog_parts):
    import pyarrow as pa
    import pyarrow.compute as pc

    items, collections = catalog_parts
    written = write_catalog(items, collections, tmp_path / "c.parquet")

    def undeprecate(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index("deprecated")
        return table.set_column(index, table.schema.field(index), pc.fill_null(pc.and_(table["deprecated"], False), False))

    broken = _rewrite(written.path, tmp_path / "broken.parquet", table_edit=undeprecate)
    with pytest.raises(CatalogFileError, match=rf"(?s)collection '{STATCAN_TABLE}': non-deprecated items"):
        verify_catalog_file(broken)
