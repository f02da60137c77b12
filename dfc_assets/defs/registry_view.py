"""The registry as the Dagster layer sees it: parsed once per process, lazily, and datasets found from partition keys at run time.

Definitions only need the shards; a step finds its one dataset from the partition key it runs for.
"""

from __future__ import annotations

import functools

from dfc_assets.partitions import registry_shards, shard_of, split_partition_key
from dfc_assets.registry import DatasetSpec, load_registry
from dfc_assets.storage import ObjectStore


class UnknownDataset(LookupError):
    """A partition key or dataset key the registry does not know (or that belongs to another shard)."""


@functools.cache
def _registry():
    return load_registry()


@functools.cache
def _by_key() -> dict[str, DatasetSpec]:
    return {spec.key: spec for spec in _registry()}


def forget_registry() -> None:
    """Read the registry again on next use (tests that change DFC_REGISTRY)."""
    _registry.cache_clear()
    _by_key.cache_clear()


def shards() -> tuple[str, ...]:
    """The shards of the registry, known without the network or the store."""
    return registry_shards(_registry())


def registered_datasets(store: ObjectStore | None) -> tuple[DatasetSpec, ...]:
    return tuple(_registry())


def registered_dataset(store: ObjectStore | None, key: str) -> DatasetSpec:
    spec = _by_key().get(key)
    if spec is None:
        raise UnknownDataset(f"dataset {key!r} is not in the registry")
    return spec


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
