"""The sample-source server answers like StatCan's WDS, and our source code reads it over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import sample_table_dir, seed_sources
from dfc_assets.services.sample_sources import install_statcan_table, sample_source_server, wds_base_url
from dfc_assets.settings import Settings
from dfc_assets.sources import SourceError, WdsClient, current_release, fetch_release

WDS_RECORDINGS = Path(__file__).resolve().parents[1] / "samples" / "statcan" / "wds-responses.json"


@pytest.fixture
def sources(tmp_path):
    root = tmp_path / "sources"
    seed_sources(root)
    server = sample_source_server(root).start()
    yield root, server.base_url
    server.stop()


def settings_for(base_url: str) -> Settings:
    return Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                    wds_base_url=wds_base_url(base_url), sources_base_url=base_url)


def test_wds_answers_have_the_recorded_shape(sources):
    root, base = sources
    with httpx.Client() as client:
        meta = client.post(f"{wds_base_url(base)}/getCubeMetadata", json=[{"productId": 33100036}]).json()
        assert isinstance(meta, list) and meta[0]["status"] == "SUCCESS"
        assert meta[0]["object"]["productId"] == "33100036" and meta[0]["object"]["releaseTime"] == "2025-06-11T08:30"
        csv = client.get(f"{wds_base_url(base)}/getFullTableDownloadCSV/33100036/en").json()
        assert csv["status"] == "SUCCESS" and csv["object"].endswith("/n1/tbl/csv/33100036-eng.zip")
        changed = client.get(f"{wds_base_url(base)}/getChangedCubeList/2025-06-11").json()
        assert changed["object"] == [{"responseStatusCode": 0, "productId": 33100036, "releaseTime": "2025-06-11T08:30"}]
        assert client.get(f"{wds_base_url(base)}/getChangedCubeList/2025-06-12").json()["object"] == []
        missing = client.get(f"{wds_base_url(base)}/getFullTableDownloadCSV/99999999/en").json()
        assert missing["status"] == "FAILED"


def test_current_release_and_fetch_of_the_real_table(sources, tmp_path):
    root, base = sources
    spec = next(s for s in load_registry() if s.key == "statcan_table_33100036")
    with httpx.Client() as client:
        release = current_release(spec, settings_for(base), client)
        assert release.version == "2025-06-11"
        files = fetch_release(spec, "2025-06-11", settings_for(base), client, tmp_path / "dl")
    by_name = {f.file_name: f for f in files}
    zip_file = by_name["33100036-eng.zip"]
    assert zip_file.size == 573525 and zip_file.etag and zip_file.last_modified
    assert zip_file.path.read_bytes() == (sample_table_dir() / "33100036-eng.zip").read_bytes()
    assert json.loads(by_name["33100036.cube-metadata.json"].path.read_text())["cubeTitleFr"].startswith("Taux de change")


def test_fetching_a_version_upstream_no_longer_serves_is_refused(sources, tmp_path):
    root, base = sources
    spec = next(s for s in load_registry() if s.key == "statcan_table_33100036")
    metadata = json.loads((sample_table_dir() / "33100036.json").read_text())
    install_statcan_table(root, metadata={**metadata, "releaseTime": "2025-06-12T08:30"}, csv_zip=sample_table_dir() / "33100036-eng.zip")
    with httpx.Client() as client, pytest.raises(SourceError) as error:
        fetch_release(spec, "2025-06-11", settings_for(base), client, tmp_path / "dl")
    assert "statcan_table_33100036" in str(error.value) and "2025-06-12" in str(error.value) and "archive/" in str(error.value)


def test_boundary_release_is_its_last_modified_day(sources):
    root, base = sources
    spec = next(s for s in load_registry() if s.key == "fixture_provinces_territories")
    with httpx.Client() as client:
        assert current_release(spec, settings_for(base), client).version == "2022-02-09"


def test_wds_client_reports_failures_clearly(sources):
    _, base = sources
    with httpx.Client() as client, pytest.raises(SourceError, match="getFullTableDownloadCSV for table 12345678"):
        WdsClient(client, wds_base_url(base)).full_table_csv_url("12345678")


def shape(value):
    """Keys and value types, recursively (lists by their first element): what a client of WDS relies on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_our_wds_answers_have_the_shape_of_the_real_recorded_ones(sources):
    recorded = {entry["request"]["uri"].split("/rest/")[1].split("/")[0]: entry["body"] for entry in json.loads(WDS_RECORDINGS.read_text()).values()}
    _, base = sources
    with httpx.Client() as client:
        ours = {
            "getCubeMetadata": client.post(f"{wds_base_url(base)}/getCubeMetadata", json=[{"productId": 33100036}]).json(),
            "getFullTableDownloadCSV": client.get(f"{wds_base_url(base)}/getFullTableDownloadCSV/33100036/en").json(),
            "getChangedCubeList": client.get(f"{wds_base_url(base)}/getChangedCubeList/2025-06-11").json(),
        }
    for method, body in ours.items():
        real = recorded[method]
        if method == "getCubeMetadata":  # compare the wrapper and the top-level keys of the object (members differ per cube)
            assert shape(body)[0].keys() == shape(real)[0].keys()
            assert set(real[0]["object"]) <= set(body[0]["object"])  # ours is the 2025 metadata: it adds issueDate
        else:
            assert shape(body) == shape(real), method
