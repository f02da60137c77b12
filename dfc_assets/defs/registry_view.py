"""The registry as the Dagster layer sees it: shards at definitions time, datasets from partition keys at run time.

Definitions need only the shards (the registry's entries and collection filters, no network, no
store); a step finds its one dataset from the partition key it runs for. The registry is parsed once
per process (``registry.current_registry``; a large registry file is parsed once per content and
kept by the registry's own cache).
"""

from __future__ import annotations

from dfc_assets.partitions import registry_shards, shard_of, split_partition_key
from dfc_assets.registry import DatasetSpec, UnknownDataset, current_registry, registered_dataset, registered_datasets
from dfc_assets.storage import ObjectStore

__all__ = ["UnknownDataset", "dataset_of_partition", "registered_dataset", "registered_datasets", "shards"]


def shards() -> tuple[str, ...]:
    """The shards of the registry, known without the network or the store."""
    return registry_shards(current_registry())


def dataset_of_partition(store: ObjectStore | None, shard: str, partition_key: str) -> tuple[DatasetSpec, str]:
    """``(spec, version)`` of a partition key of ``shard``; refuses keys of another shard or of no dataset."""
    key, version = split_partition_key(partition_key)
    try:
        spec = registered_dataset(store, key)
    except UnknownDataset as error:
        raise UnknownDataset(f"partition {partition_key!r} of shard {shard}: dataset {key!r} version {version!r}: {error}") from None
    if shard_of(spec) != shard:
        raise UnknownDataset(f"partition {partition_key!r}: dataset {key!r} version {version!r} belongs to shard {shard_of(spec)}, not {shard}")
    return spec, version
