"""The registry as the Dagster layer sees it: shards at definitions time, datasets from partition keys at run time.

Definitions need only the shards (the registry's entries and collection filters, no network, no
store); a step finds its one dataset from the partition key it runs for. The registry is parsed once
per process (``registry.current_registry``), and only when a dataset is asked for: the shards of a
registry file are kept in a small cache file named by the file's sha256, so the code server, each
run and each step process of the same registry skip the parse (10,000 entries take seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from dfc_assets.partitions import STATCAN_SUBJECTS, registry_shards, shard_of, split_partition_key
from dfc_assets.registry import (
    DatasetSpec, UnknownDataset, current_registry, default_registry_path, registered_dataset, registered_datasets,
)
from dfc_assets.storage import ObjectStore

__all__ = ["UnknownDataset", "dataset_of_partition", "registered_dataset", "registered_datasets", "shards"]
CACHE_ENV = "DFC_CACHE_DIR"
# Part of the cache key: a change of the sharding rule makes every cached answer stale.
_SHARD_RULE = f"shards/1 {','.join(STATCAN_SUBJECTS)}".encode()


def cache_dir() -> Path:
    """DFC_CACHE_DIR, else $XDG_CACHE_HOME/dfc_assets or ~/.cache/dfc_assets."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache" if Path.home().is_dir() else tempfile.gettempdir())
    return Path(base) / "dfc_assets"


def shards() -> tuple[str, ...]:
    """The shards of the registry, known without the network or the store; parsed once per registry file version."""
    path = default_registry_path()
    try:
        digest = hashlib.sha256(_SHARD_RULE + b"\0" + path.read_bytes()).hexdigest()
    except OSError:
        return registry_shards(current_registry())  # raises the RegistryError naming the file
    cached = cache_dir() / f"shards-{digest}.json"
    try:
        return tuple(json.loads(cached.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass
    found = registry_shards(current_registry())
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(found), encoding="utf-8")
        partial.replace(cached)
    except OSError:
        pass  # a read-only home: every process parses the registry, nothing else changes
    return found


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
