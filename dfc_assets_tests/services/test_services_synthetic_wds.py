"""The sample-source server's synthetic WDS: deterministic tables, releases on demand, the real table unchanged."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from dfc_assets.registry import Registry, StatcanTablesCollection, fetch_cube_list
from dfc_assets.services.sample_sources import SAMPLE_TABLE, sample_source_server, seed_sources, wds_base_url
from dfc_assets.services.synthetic_wds import publish_synthetic_release, synthetic_product_ids
from dfc_assets.settings import Settings
from dfc_assets.sources import current_release, fetch_release, transform
from dfc_assets.sources.http_download import SourceError


def serve(tmp_path, name, count, seed):
    root = tmp_path / name
    seed_sources(root, synthetic_tables=count, synthetic_seed=seed)
    return root, sample_source_server(root).start()


@pytest.fixture
def upstream(tmp_path):
    root, server = serve(tmp_path, "sources", 40, 3)
    settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                        wds_base_url=wds_base_url(server.base_url), sources_base_url=server.base_url)
    with httpx.Client() as client:
        yield root, settings, client
    server.stop()


def member(settings, client, product_id):
    snapshot = fetch_cube_list(client, settings.wds_base_url)
    collection = StatcanTablesCollection(key="tables", producer="Statistics Canada", license="OGL-Canada-2.0", include_archived=True)
    return next(spec for spec in Registry(path=None, entries=(), collections=(collection,)).datasets(snapshot)
                if spec.source.product_id == product_id)


def test_the_same_seed_and_count_serve_the_same_tables_and_bytes(tmp_path):
    answers = []
    for name in ("a", "b"):
        root, server = serve(tmp_path, name, 25, 9)
        base = wds_base_url(server.base_url)
        with httpx.Client() as client:
            cubes = client.get(f"{base}/getAllCubesListLite").json()
            pid = synthetic_product_ids(root)[4]
            url = client.get(f"{base}/getFullTableDownloadCSV/{pid}/en").json()["object"]
            answers.append((cubes, client.get(url).content))
        server.stop()
    assert answers[0] == answers[1]
    cubes = answers[0][0]
    assert len(cubes) == 26 and len({c["productId"] for c in cubes}) == 26 and all(len(str(c["productId"])) == 8 for c in cubes)
    assert {c["archived"] for c in cubes} == {"1", "2"} and all(c["releaseTime"].endswith("Z") for c in cubes)


def test_a_published_release_changes_the_lists_the_metadata_and_the_bytes(upstream, tmp_path):
    root, settings, client = upstream
    pids = synthetic_product_ids(root)[:3]
    spec = member(settings, client, pids[0])
    before = current_release(spec, settings, client)
    old = fetch_release(spec, before.version, settings, client, tmp_path / "old")
    publish_synthetic_release(root, pids, datetime(2025, 6, 12, 12, 30, tzinfo=timezone.utc))
    changed = client.get(f"{settings.wds_base_url}/getChangedCubeList/2025-06-12").json()["object"]
    assert sorted(str(entry["productId"]) for entry in changed) == sorted(pids)
    assert {entry["releaseTime"] for entry in changed} == {"2025-06-12T08:30"}  # Eastern, no offset, as WDS answers
    after = current_release(spec, settings, client)
    assert after.version == "2025-06-12" and after.release_time == "2025-06-12T08:30"
    new = fetch_release(spec, "2025-06-12", settings, client, tmp_path / "new")
    assert new[0].sha256 != old[0].sha256
    with pytest.raises(SourceError, match="upstream now publishes version 2025-06-12"):
        fetch_release(spec, before.version, settings, client, tmp_path / "gone")
    with pytest.raises(ValueError, match="must come after"):
        publish_synthetic_release(root, pids[:1], datetime(2025, 6, 12, 12, 30, tzinfo=timezone.utc))


def test_a_synthetic_table_goes_through_the_real_transform(upstream, tmp_path):
    root, settings, client = upstream
    spec = member(settings, client, synthetic_product_ids(root)[1])
    files = fetch_release(spec, current_release(spec, settings, client).version, settings, client, tmp_path / "dl")
    result = transform(spec, "v", [file.path for file in files], tmp_path / "out.parquet", lambda message: None)
    assert result.rows == 20 and (tmp_path / "out.parquet").stat().st_size > 0


def test_code_sets_name_the_subjects_and_the_real_table_is_still_served(upstream):
    _, settings, client = upstream
    subjects = client.get(f"{settings.wds_base_url}/getCodeSets").json()["object"]["subject"]
    assert {"subjectCode": "33", "subjectEn": "Business performance and ownership", "subjectFr": "Rendement des entreprises et propriété"} in subjects
    real = client.post(f"{settings.wds_base_url}/getCubeMetadata", json=[{"productId": int(SAMPLE_TABLE)}]).json()[0]["object"]
    assert real["releaseTime"] == "2025-06-11T08:30" and real["productId"] == SAMPLE_TABLE
    lite = next(c for c in client.get(f"{settings.wds_base_url}/getAllCubesListLite").json() if c["productId"] == int(SAMPLE_TABLE))
    assert lite["releaseTime"] == "2025-06-11T12:30:00Z" and lite["archived"] == "2"


def test_no_synthetic_tables_unless_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("DFC_SAMPLE_WDS_TABLES", raising=False)
    root = tmp_path / "plain"
    seed_sources(root)
    assert synthetic_product_ids(root) == []
    monkeypatch.setenv("DFC_SAMPLE_WDS_TABLES", "12")
    other = tmp_path / "env"
    seed_sources(other)
    assert len(synthetic_product_ids(other, include_archived=True)) == 12
