"""Several partitions per run: a range run over versions of one shard, on the embedded default with synthetic WDS tables.

Five synthetic tables of subject 10 (one shard): published four to a run, each version's metadata, DOI and checks on
its own partition; a version failing inside a range fails alone, named, and the others publish.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import httpx
import pytest

from dfc_assets.cli.embedded import embedded
from dfc_assets.defs.automation import retry_requests
from dfc_assets.defs.resources import object_store
from dfc_assets.defs.shard_checks import CHECKS
from dfc_assets.registry import ensure_cube_list, registered_datasets, statcan_table_id
from dfc_assets.services.local_stack import LocalServices
from dfc_assets.sources.release import current_release
from dfc_assets.storage import VersionKeys

TABLES = 73  # 18 synthetic subjects round robin: subject 10 gets tables 0, 18, 36, 54, 72
SHARD = "statcan_table_10"
PRODUCT_IDS = [f"1010{1000 + n:04d}" for n in range(5)]
PER_RUN = 4


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("batches")
    registry = workdir / "registry.yaml"
    registry.write_text(
        "collections:\n  - key: synthetic_tables\n    kind: statcan_tables\n    producer: Statistics Canada\n    license: OGL-Canada-2.0\n"
        f"    filters: {{include_archived: true, product_ids: [{', '.join(repr(pid) for pid in PRODUCT_IDS)}]}}\n", encoding="utf-8")
    saved = {name: os.environ.get(name) for name in ("DFC_SAMPLE_WDS_TABLES", "DFC_REGISTRY", "DFC_CACHE_DIR", "DFC_SERVICES_FILE", "DAGSTER_HOME")}
    os.environ.update(DFC_SAMPLE_WDS_TABLES=str(TABLES), DFC_REGISTRY=str(registry), DFC_CACHE_DIR=str(workdir / "cache"))
    try:
        with LocalServices(workdir) as urls, embedded(workdir, say=lambda message: None, console_log_level="CRITICAL") as run:
            with httpx.Client(timeout=60) as client:
                store = object_store(run.settings)
                ensure_cube_list(store, client, run.settings.wds_base_url)
                specs = sorted(registered_datasets(store), key=lambda spec: spec.key)
                current = {spec.key: current_release(spec, run.settings, client).version for spec in specs}
            assert [spec.source.product_id for spec in specs] == PRODUCT_IDS
            good, bad = specs[:4], specs[4]
            failures = run.publish_many([(spec, current[spec.key]) for spec in good], per_run=PER_RUN)
            assert failures == []
            batch_failures = run.publish_many([(bad, "2001-01-01"), (bad, current[bad.key])], per_run=PER_RUN)
            yield run, Path(urls.store_root), specs, current, batch_failures
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.update({name: value})


def publish_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return sorted(instance.get_runs(dg.RunsFilter(job_name=f"publish__{SHARD}")), key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)


def test_four_versions_publish_in_one_run_each_with_its_own_doi_on_its_partition(published):
    run, store, specs, current, _ = published
    first = publish_runs(run.instance)[0]
    assert first.status == dg.DagsterRunStatus.SUCCESS
    keys = [f"{spec.key}:{current[spec.key]}" for spec in specs[:4]]
    assert (first.tags["dagster/asset_partition_range_start"], first.tags["dagster/asset_partition_range_end"]) == (keys[0], keys[-1])
    assert first.tags["dfc/dataset"] == f"batch:{SHARD}" and first.tags["dfc/shard"] == SHARD
    assert {key: first.tags[f"dfc/dataset/{spec.key}"] for key, spec in zip(keys, specs)} == {key: current[spec.key] for key, spec in zip(keys, specs)}
    dois, concepts = set(), set()
    for key, spec in zip(keys, specs[:4]):
        records = run.instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey([SHARD, "zenodo_record"]), asset_partitions=[key]), limit=1).records
        metadata = records[0].asset_materialization.metadata
        assert records[0].run_id == first.run_id and metadata["dataset"].value == spec.key and metadata["version"].value == current[spec.key]
        dois.add(metadata["doi"].value)
        concepts.add(metadata["concept_doi"].value)
        assert (store / VersionKeys(statcan_table_id(spec.source.product_id), current[spec.key]).stac_item).exists()
    assert len(dois) == len(concepts) == 4


def test_every_check_reports_on_each_partition_of_the_range(published):
    run, _, specs, current, _ = published
    first = publish_runs(run.instance)[0]
    evaluations = {(event.dagster_event.event_specific_data.check_name, event.dagster_event.event_specific_data.partition)
                   for event in run.instance.all_logs(first.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)}
    keys = {f"{spec.key}:{current[spec.key]}" for spec in specs[:4]}
    assert evaluations == {(name, key) for _, name, _, _ in CHECKS for key in keys}


def test_a_version_failing_inside_a_range_fails_alone_named_and_the_other_publishes(published):
    run, store, specs, current, failures = published
    bad = specs[4]
    batch = publish_runs(run.instance)[1]
    assert batch.status == dg.DagsterRunStatus.FAILURE and batch.tags["dfc/dataset"] == bad.key  # two versions of one dataset
    assert len(failures) == 1 and f"{bad.key} version 2001-01-01" in failures[0]
    table = statcan_table_id(bad.source.product_id)
    assert (store / VersionKeys(table, current[bad.key]).stac_item).exists()
    assert not (store / "releases" / table / "2001-01-01").exists()  # nothing of the failed version published
    step_failure = next(event for event in run.instance.all_logs(batch.run_id, of_type=dg.DagsterEventType.STEP_FAILURE))
    assert f"{bad.key} version 2001-01-01" in step_failure.dagster_event.step_failure_data.error.message
    retried = [r.partition_key for r in retry_requests(run.instance, batch)]  # what the daemon's retry sensor asks for now
    assert retried == [f"{bad.key}:2001-01-01"]


def test_the_stored_check_status_of_each_partition_is_what_the_ui_shows(published):
    run, _, specs, current, _ = published
    keys = {f"{spec.key}:{current[spec.key]}" for spec in specs[:4]}
    found = {}
    for asset, name, _, _ in CHECKS:
        check = dg.AssetCheckKey(dg.AssetKey([SHARD, asset]), name)
        for record in run.instance.event_log_storage.get_asset_check_execution_history(check, limit=100):
            found.setdefault((name, record.partition), record.status.value)
    assert {key: found.get(key) for key in ((name, pk) for _, name, _, _ in CHECKS for pk in keys)} == {
        (name, pk): "SUCCEEDED" for _, name, _, _ in CHECKS for pk in keys}
