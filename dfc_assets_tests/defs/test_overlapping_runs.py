"""Runs that overlap in datasets, started together: a batch run over two synthetic tables of one shard and a run of
one of them (a retry, an operator's materialization, `dfc backfill`). The queue keeps them apart only when both pass
through it; here neither does (in-process, as the embedded runner runs them): the dataset lease alone keeps them one
at a time. Each version is published once, both runs succeed."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import dagster as dg
import httpx

from dfc_assets.defs.resources import PublisherResource, object_store
from dfc_assets.defs.shard_assets import shard_assets
from dfc_assets.partitions import partition_key, partitions_name
from dfc_assets.publication.published import Published
from dfc_assets.registry import ensure_cube_list, registered_datasets, statcan_table_id
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.settings import load_settings
from dfc_assets.sources.release import current_release
from dfc_assets.storage.keys import publishing_lease
from dfc_assets.publication import zenodo_record

TABLES = 73  # as in test_batch_runs: subject 10 gets synthetic tables 0, 18, ...
SHARD = "statcan_table_10"
PRODUCT_IDS = ["10101000", "10101001"]
WAIT_SECONDS = 180  # how long one run may take to reach the moment the test waits for (a loaded machine runs Dagster slowly)
SEEN: list[str] = []  # every publisher log line of both runs, as they come


class RecordingPublisher(PublisherResource):
    @contextmanager
    def open(self, log, holder: str = ""):
        def both(message: str) -> None:
            SEEN.append(message)
            log(message)

        with super().open(both, holder) as publisher:
            yield publisher


def test_a_batch_run_and_a_run_of_one_of_its_datasets_at_once_publish_each_version_once(tmp_path, monkeypatch):
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "collections:\n  - key: synthetic_tables\n    kind: statcan_tables\n    producer: Statistics Canada\n    license: OGL-Canada-2.0\n"
        f"    filters: {{include_archived: true, product_ids: [{', '.join(repr(pid) for pid in PRODUCT_IDS)}]}}\n", encoding="utf-8")
    monkeypatch.setenv("DFC_SAMPLE_WDS_TABLES", str(TABLES))
    monkeypatch.setenv("DFC_REGISTRY", str(registry))
    monkeypatch.setenv("DFC_CACHE_DIR", str(tmp_path / "cache"))
    services = LocalServices(tmp_path / "services")
    with services:
        monkeypatch.setenv("DFC_SERVICES_FILE", str(tmp_path / "services" / SERVICES_FILE))
        settings = load_settings()
        store = object_store(settings)
        with httpx.Client(timeout=60) as client:
            ensure_cube_list(store, client, settings.wds_base_url)
            specs = sorted(registered_datasets(store), key=lambda spec: spec.key)
            keys = [partition_key(spec.key, current_release(spec, settings, client).version) for spec in specs]
        assets = shard_assets(SHARD)
        batch_reached_zenodo, go_on = threading.Event(), threading.Event()
        save = zenodo_record.StoreJournal.save

        def batch_pauses_in_zenodo(journal, state):  # the first to publish on Zenodo holds there (in its lease, if any)
            if not batch_reached_zenodo.is_set():
                batch_reached_zenodo.set()
                go_on.wait(timeout=WAIT_SECONDS)
            return save(journal, state)

        monkeypatch.setattr(zenodo_record.StoreJournal, "save", batch_pauses_in_zenodo)

        def run(**how) -> dict:
            instance = dg.DagsterInstance.ephemeral()
            instance.add_dynamic_partitions(partitions_name(SHARD), keys)
            result = dg.materialize(assets, instance=instance, resources={"publisher": RecordingPublisher()}, raise_on_error=False, **how)
            dois = {}
            for key in keys:
                found = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey([SHARD, "zenodo_record"]), asset_partitions=[key]), limit=5).records
                dois[key] = [record.asset_materialization.metadata["doi"].value for record in found]
            return {"success": result.success, "run_id": result.run_id, "dois": dois,
                    "messages": [event.message for event in instance.all_logs(result.run_id)]}

        outcome: dict[str, dict] = {}
        batch = threading.Thread(target=lambda: outcome.update(batch=run(tags={
            "dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]})), daemon=True)
        single = threading.Thread(target=lambda: outcome.update(single=run(partition_key=keys[0])), daemon=True)
        batch.start()
        try:
            assert batch_reached_zenodo.wait(timeout=WAIT_SECONDS), "the batch run never reached its zenodo_record step"
            single.start()
            deadline = time.monotonic() + WAIT_SECONDS
            while single.is_alive() and not any("waiting for run" in m for m in SEEN) and time.monotonic() < deadline:
                time.sleep(0.02)  # the single run waits for the batch's lease on its dataset (without one it publishes)
        finally:
            go_on.set()
            batch.join(timeout=4 * WAIT_SECONDS)
            if single.ident is not None:
                single.join(timeout=4 * WAIT_SECONDS)
        batch_run, single_run = outcome["batch"], outcome["single"]
        assert batch_run["success"] and single_run["success"]
        records = list(services.emulator.state.data["records"].values())
        assert len(records) == len(keys) and all(r["published"] is not None for r in records), "one Zenodo version per version"
        assert batch_run["dois"][keys[0]] == single_run["dois"][keys[0]]  # the single run's version: the batch's DOI
        assert len({doi for run_ in (batch_run, single_run) for found in run_["dois"].values() for doi in found}) == len(keys)
        published = Published(store)
        for spec, key in zip(specs, keys):
            dataset_id = statcan_table_id(spec.source.product_id)
            assert published.latest_version(dataset_id) == key.split(":", 1)[1] and published.stale_aliases(dataset_id) == []
            assert store.head(publishing_lease(dataset_id)) is None
        waiting = [m for m in single_run["messages"] if "waiting for run" in m]
        assert waiting and f"waiting for run {batch_run['run_id']} (__ephemeral_asset_job__), step zenodo_record of version" in waiting[0]
        assert f"dataset {specs[0].key} (" in waiting[0]
        assert any("already published on Zenodo" in m for m in single_run["messages"])
