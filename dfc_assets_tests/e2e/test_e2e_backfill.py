"""Backfills of old versions and rebuild versions, from the command line on the embedded default."""

from __future__ import annotations

import json

import pytest

from dfc_assets.catalog.geoparquet import read_catalog
from dfc_assets.cli.main import main
from dfc_assets.registry import load_registry
from dfc_assets.storage import CATALOG, VersionKeys, processed_artifact, processed_pointer

pytestmark = pytest.mark.e2e
BOUNDARY = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")


def links(item: dict) -> dict[str, str]:
    return {link["rel"]: link["href"].rsplit("/", 1)[-1] for link in item["links"] if link["rel"].endswith("version")}


@pytest.fixture(scope="module")
def backfilled(stack):
    assert stack.publish(BOUNDARY, "2022-02-09").success
    assert main(["backfill", BOUNDARY.key, "2016", "2011", "--workdir", str(stack.workdir)]) == 0
    return stack


def test_old_versions_publish_without_moving_processed_back(backfilled):
    root = backfilled.store_root
    for version in ("2011", "2016", "2022-02-09"):
        assert (root / VersionKeys(BOUNDARY.id, version).zenodo_record).exists(), version
    assert json.loads((root / processed_pointer(BOUNDARY.id)).read_text())["version"] == "2022-02-09"
    assert (root / processed_artifact(BOUNDARY.id)).read_bytes() == (root / VersionKeys(BOUNDARY.id, "2022-02-09").artifact).read_bytes()
    concepts = {json.loads((root / VersionKeys(BOUNDARY.id, v).zenodo_record).read_text())["concept_doi"] for v in ("2011", "2016", "2022-02-09")}
    assert len(concepts) == 1
    raw_index = json.loads((root / VersionKeys(BOUNDARY.id, "2016").archive(f"{BOUNDARY.id}_2016.raw.json")).read_text())
    assert raw_index["files"][0]["url"].endswith("/boundaries/lpr_000b16a_e_synthetic.zip")


def test_a_backfill_of_published_versions_launches_no_publishing_run(backfilled, capsys):
    from dfc_assets.defs.jobs import publish_job_name

    def publishing_runs() -> int:
        return sum(run.job_name.startswith(publish_job_name("")) for run in backfilled.instance.get_runs())

    before = publishing_runs()
    capsys.readouterr()
    assert main(["backfill", BOUNDARY.key, "2016", "2011", "--workdir", str(backfilled.workdir)]) == 0
    assert publishing_runs() == before
    assert f"{BOUNDARY.key}: 2 version(s) already published (every step done): 2011, 2016" in capsys.readouterr().err


def test_the_catalog_links_versions_in_release_order(backfilled):
    items = {item["properties"]["version"]: item for item in read_catalog(backfilled.store_root / CATALOG) if item["collection"] == BOUNDARY.id}
    assert sorted(items) == ["2011", "2016", "2022-02-09"]
    oldest, middle, newest = (links(items[v]) for v in ("2011", "2016", "2022-02-09"))
    assert "predecessor-version" not in oldest and oldest["successor-version"].startswith(items["2016"]["id"])
    assert middle["predecessor-version"].startswith(items["2011"]["id"]) and middle["successor-version"].startswith(items["2022-02-09"]["id"])
    assert newest["predecessor-version"].startswith(items["2016"]["id"]) and "successor-version" not in newest
    assert {links(item)["latest-version"] for item in items.values()} == {links(items["2022-02-09"]).get("latest-version")}
    assert items["2011"]["properties"]["deprecated"] is True and not items["2022-02-09"]["properties"].get("deprecated")


def test_a_rebuild_version_reuses_the_archive_and_moves_processed_forward(backfilled):
    assert main(["rebuild", BOUNDARY.key, "2022-02-09", "--workdir", str(backfilled.workdir)]) == 0
    root = backfilled.store_root
    rebuilt = VersionKeys(BOUNDARY.id, "2022-02-09.1")
    index = json.loads((root / rebuilt.archive(f"{rebuilt.stem}.raw.json")).read_text())
    assert index["rebuild_of"] == "2022-02-09"
    assert json.loads((root / processed_pointer(BOUNDARY.id)).read_text())["version"] == "2022-02-09.1"
    manifest = json.loads((root / rebuilt.manifest).read_text())
    original = json.loads((root / VersionKeys(BOUNDARY.id, "2022-02-09").manifest).read_text())
    assert manifest["output"]["sha256"] == original["output"]["sha256"]  # deterministic: same archive, same code, same bytes


def test_the_fixity_audit_lands_on_the_checks_of_the_version_it_checked(backfilled):
    import dagster as dg

    from dfc_assets.defs.jobs import AUDIT_JOB
    from dfc_assets.partitions import partition_key, shard_of

    latest = json.loads((backfilled.store_root / processed_pointer(BOUNDARY.id)).read_text())["version"]
    result = backfilled.embedded.run_job(AUDIT_JOB, {"dfc/trigger": "test"})
    assert result.success
    for asset, check in (("zenodo_record", "zenodo_file_matches_artifact"), ("torrent", "web_seeds_serve_the_torrent")):
        key = dg.AssetCheckKey(dg.AssetKey([shard_of(BOUNDARY), asset]), check)
        records = backfilled.instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
        audited = [r for r in records if r.run_id == result.run_id]
        assert [(r.partition, r.status.value) for r in audited] == [(partition_key(BOUNDARY.key, latest), "SUCCEEDED")], check
