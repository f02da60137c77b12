from types import SimpleNamespace

import pytest

from dfc_assets.partitions import (
    STATCAN_TABLE_FALLBACK_SHARD,
    InvalidPartitionKey,
    collection_shards,
    partition_key,
    partitions_name,
    registry_shards,
    shard_of,
    split_partition_key,
    statcan_table_shards,
)
from dfc_assets.registry import load_registry


def table(product_id: str):
    return SimpleNamespace(key=f"statcan_table_{product_id}", source=SimpleNamespace(kind="statcan_table", product_id=product_id))


def test_shard_of_a_table_is_its_subject_and_other_kinds_their_kind():
    assert shard_of(table("33100036")) == "statcan_table_33"
    assert shard_of(table("19100001")) == STATCAN_TABLE_FALLBACK_SHARD
    assert shard_of(SimpleNamespace(source=SimpleNamespace(kind="statcan_boundary"))) == "statcan_boundary"
    assert partitions_name("statcan_table_33") == "dfc__statcan_table_33__versions"


def test_partition_key_round_trip():
    pk = partition_key("statcan_table_33100036", "2025-06-11.1")
    assert pk == "statcan_table_33100036:2025-06-11.1"
    assert split_partition_key(pk) == ("statcan_table_33100036", "2025-06-11.1")


@pytest.mark.parametrize("bad", [
    "", "roads", ":2025", "roads:", "Roads:2025", "roads:2025\n", "roads\n:2025", "roads:20 25", "roads:2025:1",
    "roads:2025,2026", " roads:2025", "1roads:2025", "roads:2025/..", None, 5,
])
def test_split_partition_key_refuses_anything_else(bad):
    with pytest.raises(InvalidPartitionKey):
        split_partition_key(bad)


@pytest.mark.parametrize("key, version", [("Roads", "1"), ("roads", "a:b"), ("roads", "1\n"), ("roads\n", "1"), ("roads", "")])
def test_partition_key_refuses_bad_parts(key, version):
    with pytest.raises(InvalidPartitionKey):
        partition_key(key, version)


def test_shards_of_the_packaged_registry_and_of_collections():
    specs = load_registry()
    assert set(registry_shards(specs)) == {shard_of(spec) for spec in specs}
    every = collection_shards(SimpleNamespace(key="all", kind="statcan_tables", filters=SimpleNamespace(product_ids=())))
    assert every == statcan_table_shards() and STATCAN_TABLE_FALLBACK_SHARD in every
    few = collection_shards(SimpleNamespace(key="few", kind="statcan_tables", filters=SimpleNamespace(product_ids=("33100036", "14100287"))))
    assert few == ("statcan_table_14", "statcan_table_33")
    registry = SimpleNamespace(entries=specs, collections=[SimpleNamespace(key="few", kind="statcan_tables", product_ids=("14100287",))])
    assert "statcan_table_14" in registry_shards(registry)


def test_batches_are_contiguous_in_the_partition_order_and_at_most_the_size():
    from dfc_assets.partitions import contiguous_batches

    order = ["a:1", "b:1", "x:1", "c:1", "d:1", "e:1", "f:1"]
    assert contiguous_batches(order, ["a:1", "b:1", "c:1", "d:1", "e:1", "f:1"], 3) == [["a:1", "b:1"], ["c:1", "d:1", "e:1"], ["f:1"]]
    with pytest.raises(ValueError, match="z:1"):
        contiguous_batches(order, ["z:1"], 3)


@pytest.mark.parametrize("text", ["0", "-1", "many"])
def test_partitions_per_run_refuses_anything_but_a_positive_whole_number(text):
    from dfc_assets.partitions import partitions_per_run

    assert partitions_per_run({}) == 25 and partitions_per_run({"DFC_PARTITIONS_PER_RUN": "50"}) == 50
    with pytest.raises(ValueError, match="DFC_PARTITIONS_PER_RUN"):
        partitions_per_run({"DFC_PARTITIONS_PER_RUN": text})
