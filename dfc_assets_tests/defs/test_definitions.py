"""The code location loads, and every registry dataset has the five assets on its own partition set."""

from __future__ import annotations

import dagster as dg

from dfc_assets.defs.dataset_assets import ASSET_NAMES
from dfc_assets.definitions import defs
from dfc_assets.registry import load_registry


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_every_dataset_has_the_five_assets_on_its_partition_set():
    graph = defs.resolve_asset_graph()
    for spec in load_registry():
        for name in ASSET_NAMES:
            node = graph.get(dg.AssetKey([spec.key, name]))
            partitions = node.partitions_def
            assert isinstance(partitions, dg.DynamicPartitionsDefinition), (spec.key, name)
            assert partitions.name == f"dfc__{spec.key}__versions"
            assert node.group_name == spec.key
        upstream = {key.path[-1] for key in graph.get(dg.AssetKey([spec.key, "stac_item"])).parent_keys}
        assert upstream == {"torrent"}
    catalog = graph.get(dg.AssetKey(["catalog", "stac_geoparquet"]))
    assert catalog.partitions_def is None
    assert {key.path[0] for key in catalog.parent_keys} == {spec.key for spec in load_registry()}


def test_blocking_checks_guard_the_irreversible_steps():
    checks = {(key.asset_key.path[-1], key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert ("parquet", "artifact_matches_manifest") in checks
    assert ("zenodo_record", "zenodo_file_matches_artifact") in checks
    assert ("torrent", "web_seeds_serve_the_torrent") in checks


def test_each_dataset_has_a_publishing_job():
    for spec in load_registry():
        job = defs.resolve_job_def(f"publish__{spec.key}")
        assert job.partitions_def.name == spec.partitions_name
