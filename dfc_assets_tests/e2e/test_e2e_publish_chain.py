"""Issue 2 end to end: the real StatCan table through raw -> parquet -> Zenodo -> torrent -> STAC -> catalog."""

from __future__ import annotations

import hashlib
import json
import zipfile

import geopandas as gpd
import httpx
import pyarrow.parquet as pq
import pytest

from dfc_assets.catalog.geoparquet import read_catalog
from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import install_statcan_table, sample_table_dir
from dfc_assets.storage import CATALOG, VersionKeys, processed_artifact, processed_pointer
from dfc_assets.torrent.download import download_from_web_seeds

pytestmark = pytest.mark.e2e
SPECS = {spec.key: spec for spec in load_registry()}
TABLE = SPECS["statcan_table_33100036"]
BOUNDARY = SPECS["fixture_provinces_territories"]


def changed_table_zip(path, out):
    """A later release of 33100036: one more business day with changed values."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "33100036.csv":
                lines = data.decode("utf-8-sig").splitlines(keepends=True)
                last = lines[-1]
                lines.append(last.replace("2025-06-09", "2025-06-10"))
                data = ("\ufeff" + "".join(lines)).encode("utf-8")
            target.writestr(info, data)
    return out


def zenodo_api(stack, path: str, **params):
    headers = {"Authorization": f"Bearer {stack.urls.zenodo_token}"}
    response = httpx.get(f"{stack.urls.zenodo_url}/api{path}", headers=headers, params=params)
    response.raise_for_status()
    return response.json()


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def two_versions(stack, tmp_path_factory):
    first = stack.publish(TABLE, "2025-06-11")
    assert first.success, first.all_events
    metadata = json.loads((sample_table_dir() / "33100036.json").read_text())
    new_zip = changed_table_zip(sample_table_dir() / "33100036-eng.zip", tmp_path_factory.mktemp("upstream") / "33100036-eng.zip")
    install_statcan_table(stack.sources_root, metadata={**metadata, "releaseTime": "2025-06-12T08:30", "cubeEndDate": "2025-06-10"}, csv_zip=new_zip)
    second = stack.publish(TABLE, "2025-06-12")
    assert second.success
    catalog = stack.build_catalog()
    assert catalog.success
    return stack


def record_of(stack, version):
    return json.loads((stack.store_root / VersionKeys(TABLE.id, version).zenodo_record).read_text())


def test_two_versions_share_one_concept_doi_with_distinct_dois(two_versions):
    a, b = record_of(two_versions, "2025-06-11"), record_of(two_versions, "2025-06-12")
    assert a["concept_doi"] == b["concept_doi"]
    assert a["doi"] != b["doi"]
    assert a["doi"].startswith("10.5072/zenodo.") and int(a["doi"].rsplit(".", 1)[1]) == int(a["concept_recid"]) + 1
    published = zenodo_api(two_versions, f"/deposit/depositions/{b['record_id']}")
    assert published["state"] == "done" and published["submitted"] is True
    assert published["conceptrecid"] == a["concept_recid"]
    assert published["metadata"]["version"] == "2025-06-12"


def test_zenodo_md5_equals_ours(two_versions):
    for version in ("2025-06-11", "2025-06-12"):
        keys = VersionKeys(TABLE.id, version)
        ours = md5_of((two_versions.store_root / keys.artifact).read_bytes())
        record = record_of(two_versions, version)
        files = zenodo_api(two_versions, f"/deposit/depositions/{record['record_id']}/files")
        listed = {f["filename"]: f["checksum"] for f in files}
        assert listed[keys.artifact_name] == ours
        public = httpx.get(f"{two_versions.urls.zenodo_url}/records/{record['record_id']}/files/{keys.artifact_name}")
        assert md5_of(public.content) == ours


def test_processed_holds_the_latest_version(two_versions):
    latest = two_versions.store_root / processed_artifact(TABLE.id)
    b = two_versions.store_root / VersionKeys(TABLE.id, "2025-06-12").artifact
    assert latest.read_bytes() == b.read_bytes()
    pointer = json.loads((two_versions.store_root / processed_pointer(TABLE.id)).read_text())
    assert pointer["version"] == "2025-06-12" and pointer["doi"] == record_of(two_versions, "2025-06-12")["doi"]


def test_the_catalog_has_a_row_per_version_with_its_doi(two_versions):
    items = read_catalog(two_versions.store_root / CATALOG)
    table_items = [item for item in items if item["collection"] == TABLE.id]
    assert sorted(item["properties"]["version"] for item in table_items) == ["2025-06-11", "2025-06-12"]
    assert {item["properties"]["sci:doi"] for item in table_items} == {record_of(two_versions, v)["doi"] for v in ("2025-06-11", "2025-06-12")}
    older = next(item for item in table_items if item["properties"]["version"] == "2025-06-11")
    assert older["properties"].get("deprecated") is True


def test_the_artifact_keeps_statcan_identifiers_as_text(two_versions):
    table = pq.read_table(two_versions.store_root / VersionKeys(TABLE.id, "2025-06-11").artifact)
    assert table.num_rows == 90086
    for column in ("COORDINATE", "DGUID", "VECTOR", "STATUS", "SYMBOL", "TERMINATED", "REF_DATE"):
        assert str(table.schema.field(column).type) in ("string", "large_string"), column
    assert str(table.schema.field("VALUE").type) in ("double", "float64") or "decimal" in str(table.schema.field("VALUE").type)
    assert table.schema.field("COORDINATE").type == table.schema.field("DGUID").type
    assert table.num_rows + 1 == pq.read_metadata(two_versions.store_root / VersionKeys(TABLE.id, "2025-06-12").artifact).num_rows


def test_each_torrent_downloads_from_its_web_seeds_and_matches(two_versions, tmp_path):
    for version in ("2025-06-11", "2025-06-12"):
        keys = VersionKeys(TABLE.id, version)
        torrent = (two_versions.store_root / keys.torrent).read_bytes()
        downloaded = download_from_web_seeds(torrent, tmp_path / version, timeout=120)
        manifest = json.loads((two_versions.store_root / keys.manifest).read_text())
        assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == manifest["output"]["sha256"]


def test_materializing_a_completed_partition_again_creates_nothing_new(two_versions):
    keys = VersionKeys(TABLE.id, "2025-06-12")
    before_record = record_of(two_versions, "2025-06-12")
    before_torrent = (two_versions.store_root / keys.torrent).read_bytes()
    before_depositions = zenodo_api(two_versions, "/deposit/depositions", size=100, all_versions="true")
    again = two_versions.publish(TABLE, "2025-06-12")
    assert again.success
    assert record_of(two_versions, "2025-06-12") == before_record
    assert (two_versions.store_root / keys.torrent).read_bytes() == before_torrent
    after_depositions = zenodo_api(two_versions, "/deposit/depositions", size=100, all_versions="true")
    assert sorted(d["id"] for d in after_depositions) == sorted(d["id"] for d in before_depositions)
    assert all(d["state"] == "done" for d in after_depositions)


def test_the_boundary_geoparquet_reads_back_in_epsg_4326(stack):
    result = stack.publish(BOUNDARY, "2022-02-09")
    assert result.success
    published = gpd.read_parquet(stack.store_root / VersionKeys(BOUNDARY.id, "2022-02-09").artifact)
    source = gpd.read_file(f"zip://{stack.sources_root / 'boundaries' / 'lpr_000b21a_e_synthetic.zip'}")
    assert published.crs.to_epsg() == 4326
    assert source.crs.to_epsg() == 3347
    assert len(published) == len(source) == 13
    geo = json.loads(pq.read_metadata(stack.store_root / VersionKeys(BOUNDARY.id, "2022-02-09").artifact).metadata[b"geo"])
    assert geo["version"].startswith("1.1") and "covering" in geo["columns"][geo["primary_column"]]
