"""The code location loads with one asset chain per shard, whatever the number of datasets."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import dagster as dg

from dfc_assets.definitions import defs
from dfc_assets.defs.jobs import publish_job_name
from dfc_assets.partitions import ASSET_NAMES, partitions_name, shard_of
from dfc_assets.registry import load_registry

SHARDS = {shard_of(spec) for spec in load_registry()}


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_every_shard_has_the_five_assets_on_its_partition_set():
    graph = defs.resolve_asset_graph()
    assert SHARDS == {"statcan_table_33", "statcan_boundary", "prebuilt"}
    for shard in SHARDS:
        for name in ASSET_NAMES:
            node = graph.get(dg.AssetKey([shard, name]))
            assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition), (shard, name)
            assert node.partitions_def.name == f"dfc__{shard}__versions" == partitions_name(shard)
            assert node.group_name == shard
            assert node.backfill_policy == dg.BackfillPolicy.multi_run(25)  # checks report per partition in range runs (test_batch_runs)
        upstream = {key.path[-1] for key in graph.get(dg.AssetKey([shard, "stac_item"])).parent_keys}
        assert upstream == {"torrent"}
    catalog = graph.get(dg.AssetKey(["catalog", "stac_geoparquet"]))
    assert catalog.partitions_def is None
    assert {key.path[0] for key in catalog.parent_keys} == SHARDS
    assert not any(key.path[0].startswith("fixture_") or key.path[0].endswith("33100036") for key in graph.get_all_asset_keys())


def test_blocking_checks_guard_the_irreversible_steps_on_the_same_partitions():
    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.path[0], key.asset_key.path[-1], key.name) for key in graph.asset_check_keys}
    for shard in SHARDS:
        assert (shard, "parquet", "artifact_matches_manifest") in checks
        assert (shard, "zenodo_record", "zenodo_file_matches_artifact") in checks
        assert (shard, "torrent", "web_seeds_serve_the_torrent") in checks
    for key in graph.asset_check_keys:
        assert graph.get(key).partitions_def == graph.get(key.asset_key).partitions_def


def test_one_publishing_job_per_shard_and_none_per_dataset():
    publishing = {job.name for job in defs.resolve_all_job_defs() if job.name.startswith("publish__")}
    assert publishing == {publish_job_name(shard) for shard in SHARDS}
    for shard in SHARDS:
        assert defs.resolve_job_def(publish_job_name(shard)).partitions_def.name == partitions_name(shard)


def test_a_registry_of_many_tables_gives_one_shard_per_subject(tmp_path):
    """300 individual statcan_table entries over three subjects: three StatCan shards, 15 chain assets."""
    registry = tmp_path / "registry.yaml"
    entries = []
    for index in range(300):
        pid = f"{(10, 14, 33)[index % 3]}10{index:04d}"
        entries.append(textwrap.dedent(f"""\
          - key: statcan_table_{pid}
            id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{pid}
            title: {{en: Table {pid}}}
            description: {{en: Table {pid}}}
            producer: Statistics Canada
            license: OGL-CA
            source: {{kind: statcan_table, product_id: "{pid}"}}
        """))
    registry.write_text("datasets:\n" + "".join(entries))
    script = (
        "from dfc_assets.definitions import defs\n"
        "keys = defs.resolve_asset_graph().get_all_asset_keys()\n"
        "print(sorted({k.path[0] for k in keys}), len(keys))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env={**__import__("os").environ, "DFC_REGISTRY": str(registry)},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['catalog', 'statcan_table_10', 'statcan_table_14', 'statcan_table_33'] 17"
