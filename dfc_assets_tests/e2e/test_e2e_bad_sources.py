"""Issue 6, source side, through Dagster on the embedded default: bad upstream answers publish nothing.

Each bad source is a dataset of a test registry (``DFC_REGISTRY``) pointing at a misbehaving
loopback server. A failed version must end with an error naming the dataset, the version and
the cause, with nothing under archive/ or releases/ for it, no Zenodo draft, and processed/
and the catalog untouched. Also: http_file datasets (CSV, GeoJSON) publish end to end, and a
breaking schema change is stopped by the blocking check before Zenodo.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import yaml
from shapely.geometry import box

from dfc_assets.registry import REGISTRY_ENV, load_registry, packaged_registry_path
from dfc_assets.partitions import shard_of
from dfc_assets.storage import VersionKeys
from dfc_assets_tests.sources.bad_upstream import BadUpstream

pytestmark = pytest.mark.e2e
VERSION = "2022-02-09"  # the Last-Modified every BadUpstream HEAD answers

BAD_SOURCES = {
    # key: (source entry, environment for the run, words the error must contain)
    "bad_not_found": ({"kind": "statcan_boundary", "url": "{bad}/status/404/b.zip"}, {}, "answered 404 Not Found"),
    "bad_server_error": ({"kind": "statcan_boundary", "url": "{bad}/status/500/b.zip"}, {}, "answered 500 Internal Server Error"),
    "bad_timeout": ({"kind": "statcan_boundary", "url": "{bad}/silent/b.zip"}, {"DFC_DOWNLOAD_STALL_SECONDS": "1"}, "timed out: no byte for 1 s"),
    "bad_trickle": ({"kind": "statcan_boundary", "url": "{bad}/trickle/b.zip"}, {"DFC_DOWNLOAD_TIMEOUT_SECONDS": "1.5"}, "is too slow"),
    "bad_redirect_loop": ({"kind": "statcan_boundary", "url": "{bad}/loop/b.zip"}, {}, "redirect loop"),
    "bad_content_length": ({"kind": "statcan_boundary", "url": "{bad}/short/b.zip"}, {}, "closed the connection after 500 of the 100000 bytes"),
    "bad_too_large": ({"kind": "statcan_boundary", "url": "{bad}/chunked/3000000/b.zip"}, {"DFC_DOWNLOAD_MAX_BYTES": "1000000"}, "more than the download limit of 1000000 bytes"),
    "bad_html_page": ({"kind": "statcan_boundary", "url": "{bad}/html/b.zip"}, {}, "HTML/XML page (served as text/html; charset=utf-8), not a zip file"),
    "bad_wds_failed": ({"kind": "statcan_table", "product_id": "99999999"}, {}, "answered status 'FAILED' inside HTTP 200"),
}
GOOD_FILES = {
    "file_csv": {"kind": "http_file", "url": "{bad}/files/places.csv",
                 "versions": {"2021": {"url": "{bad}/files/places_2021.csv"}, "2022": {"url": "{bad}/files/places_2022.csv"}}},
    "file_geojson": {"kind": "http_file", "url": "{bad}/files/places.geojson", "promote_to_multi": True,
                     "versions": {"2024": {"url": "{bad}/files/places_2024.geojson"}}},
}


def entry(key: str, source: dict, base_url: str) -> dict:
    text = json.dumps(source).replace("{bad}", base_url)
    return {
        "key": key, "id": f"ca_dfc-test_{key}", "title": {"en": f"Test dataset {key}"}, "description": {"en": "A source that misbehaves on purpose."},
        "producer": "Data for Canada", "license": "CC0-1.0", "source": json.loads(text),
    }


@pytest.fixture(scope="module")
def upstream():
    with BadUpstream() as server:
        server.serve("places_2021.csv", b"id,name,value\n1,Alpha,1.5\n2,Beta,2.5\n")
        server.serve("places_2022.csv", b"id,value\n1,one\n2,two\n")  # 'name' removed, 'value' now text
        geojson = gpd.GeoDataFrame({"NAME": ["a", "b"]}, geometry=[box(-80, 45, -79, 46), box(-75, 45, -74, 46)], crs="EPSG:4326").to_json()
        server.serve("places_2024.geojson", geojson.encode())
        yield server


@pytest.fixture(scope="module")
def test_registry(upstream, tmp_path_factory):
    document = yaml.safe_load(packaged_registry_path().read_text(encoding="utf-8"))
    document["datasets"] += [entry(key, source, upstream.base_url) for key, (source, _, _) in BAD_SOURCES.items()]
    document["datasets"] += [entry(key, source, upstream.base_url) for key, source in GOOD_FILES.items()]
    path = tmp_path_factory.mktemp("registry") / "datasets.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    failed_dir = tmp_path_factory.mktemp("failed-downloads")
    environ = os.environ
    saved = {name: environ.get(name) for name in (REGISTRY_ENV, "DFC_FAILED_DOWNLOADS_DIR")}
    environ[REGISTRY_ENV] = str(path)
    environ["DFC_FAILED_DOWNLOADS_DIR"] = str(failed_dir)
    yield {spec.key: spec for spec in load_registry(path)}, failed_dir
    for name, value in saved.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value


@pytest.fixture(scope="module")
def published(test_registry, stack):
    """The boundary fixture published and cataloged: the state every bad run must leave untouched."""
    specs, _ = test_registry
    assert stack.publish(specs["fixture_provinces_territories"], "2022-02-09").success
    assert stack.build_catalog().success
    return stack, specs


def snapshot(root: Path, *prefixes: str) -> dict[str, str]:
    files = {}
    for prefix in prefixes:
        for path in sorted((root / prefix).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def zenodo_depositions(stack) -> list[dict]:
    response = httpx.get(f"{stack.urls.zenodo_url}/api/deposit/depositions", params={"size": 100, "all_versions": "true"},
                         headers={"Authorization": f"Bearer {stack.urls.zenodo_token}"})
    response.raise_for_status()
    return response.json()


def failure_text(result) -> str:
    failures = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    assert failures, "the run should have failed a step"
    return "\n".join(event.step_failure_data.error.to_string() for event in failures)


@pytest.mark.parametrize("key", list(BAD_SOURCES))
def test_a_bad_source_fails_clearly_and_publishes_nothing(published, key, monkeypatch):
    stack, specs = published
    spec = specs[key]
    _, environment, words = BAD_SOURCES[key]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    version = "2025-06-11" if key == "bad_wds_failed" else VERSION
    before = snapshot(stack.store_root, "processed", "catalog")
    drafts_before = len(zenodo_depositions(stack))

    result = stack.publish(spec, version)

    assert not result.success
    text = failure_text(result)
    assert f"dataset {spec.key}" in text and f"version {version}" in text and words in text, text
    failed_steps = {event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"}
    assert failed_steps == {f"{shard_of(spec)}__raw"}
    keys = VersionKeys(spec.id, version)
    for prefix in (keys.archive_prefix, keys.release_prefix, f"state/zenodo/{spec.id}/"):
        assert not (stack.store_root / prefix).exists() or not any((stack.store_root / prefix).rglob("*")), prefix
    assert snapshot(stack.store_root, "processed", "catalog") == before
    assert len(zenodo_depositions(stack)) == drafts_before


def test_the_html_page_is_kept_for_diagnosis_outside_the_bucket(published, test_registry):
    stack, specs = published
    _, failed_dir = test_registry
    spec = specs["bad_html_page"]
    result = stack.publish(spec, VERSION)
    assert not result.success
    kept = failed_dir / spec.id / VERSION / "b.zip"
    assert kept.read_bytes().startswith(b"<!DOCTYPE html>") and str(kept) in failure_text(result)


def test_http_files_publish_end_to_end_and_a_breaking_schema_change_stops_before_zenodo(published):
    stack, specs = published
    csv_spec, geojson_spec = specs["file_csv"], specs["file_geojson"]

    first = stack.publish(csv_spec, "2021")
    assert first.success
    manifest = json.loads((stack.store_root / VersionKeys(csv_spec.id, "2021").manifest).read_text())
    assert manifest["configuration"]["source"] == {
        "kind": "http_file", "format": "csv", "url": csv_spec.source.versions["2021"].url, "layer": None, "encoding": "utf-8", "ragged_rows": "error",
    }
    assert [(c["name"], c["type"]) for c in manifest["output"]["schema"]] == [("id", "int64"), ("name", "string"), ("value", "double")]
    processed_before = snapshot(stack.store_root, "processed")
    drafts_before = len(zenodo_depositions(stack))

    second = stack.publish(csv_spec, "2022")
    assert not second.success
    evaluations = {e.check_name: e for e in second.get_asset_check_evaluations()}
    drift = evaluations["schema_matches_previous_version"]
    assert not drift.passed
    assert "- removed 'name' (string)" in drift.description and "~ retyped 'value': double -> string" in drift.description
    assert "against the previous published version 2021" in drift.description
    materialized = {event.asset_key.path[-1] for event in second.get_asset_materialization_events()}
    assert "zenodo_record" not in materialized
    assert not (stack.store_root / VersionKeys(csv_spec.id, "2022").zenodo_record).exists()
    assert len(zenodo_depositions(stack)) == drafts_before, "no Zenodo draft for a drifted version"
    assert snapshot(stack.store_root, "processed") == processed_before

    vector = stack.publish(geojson_spec, "2024")
    assert vector.success
    vector_manifest = json.loads((stack.store_root / VersionKeys(geojson_spec.id, "2024").manifest).read_text())
    assert vector_manifest["configuration"]["source"]["promote_to_multi"] is True
    assert vector_manifest["output"]["geometry_types"] == ["MultiPolygon"] and vector_manifest["output"]["crs"] == "EPSG:4326"
    assert (stack.store_root / f"processed/{geojson_spec.id}.parquet").is_file()
