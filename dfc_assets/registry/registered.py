"""The registered datasets: the registry YAML plus the cube-list snapshot, read once per process.

Everything that needs "the datasets" (definitions, sensors, steps, operator commands) asks here.
The YAML is parsed once per file version; the snapshot costs one store GET, and only when the
registry has collections.
"""

from __future__ import annotations

import difflib
import threading
from pathlib import Path

from dfc_assets.registry.collection import statcan_table_id, statcan_table_key
from dfc_assets.registry.cube_list import CubeListSnapshot, read_cube_list
from dfc_assets.registry.fields import RegistryError
from dfc_assets.registry.identifiers import KEY_PATTERN
from dfc_assets.registry.load import Registry, default_registry_path, load_registry
from dfc_assets.registry.spec import DatasetSpec

_lock = threading.Lock()
_registries: dict[tuple, Registry] = {}
_datasets: dict[tuple, tuple[tuple[DatasetSpec, ...], dict[str, DatasetSpec]]] = {}
_snapshots: dict[str, CubeListSnapshot | None] = {}


class UnknownDataset(RegistryError, LookupError):
    """No registered dataset has this key; the message says which registry was asked and what is close."""


def _file_version(path: Path) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def current_registry(path: Path | None = None) -> Registry:
    """``load_registry(path)``, parsed once per process and file version."""
    path = Path(path) if path else default_registry_path()
    try:
        version = _file_version(path)
    except FileNotFoundError:
        return load_registry(path)  # raises the RegistryError naming the file
    with _lock:
        registry = _registries.get(version)
    if registry is None:
        registry = load_registry(path)
        with _lock:
            _registries[version] = registry
    return registry


def _store_name(store) -> str:
    return store.describe() if store is not None else "(no store)"


def _snapshot(store) -> CubeListSnapshot | None:
    """The store's cube-list snapshot, read with one GET per process."""
    if store is None:
        return None
    name = _store_name(store)
    with _lock:
        if name in _snapshots:
            return _snapshots[name]
    snapshot = read_cube_list(store)
    with _lock:
        _snapshots[name] = snapshot
    return snapshot


def _load(store, registry: Registry) -> tuple[tuple[DatasetSpec, ...], dict[str, DatasetSpec]]:
    cache_key = (_file_version(registry.path), _store_name(store))
    with _lock:
        known = _datasets.get(cache_key)
    if known is None:
        snapshot = _snapshot(store) if registry.collections else None
        specs = registry.datasets(snapshot)
        known = (specs, {spec.key: spec for spec in specs})
        with _lock:
            _datasets[cache_key] = known
    return known


def registered_datasets(store, *, registry_path: Path | None = None) -> tuple[DatasetSpec, ...]:
    """Every dataset: individual entries first, then collection members in product-id order.

    Collections contribute nothing while the store holds no cube-list snapshot (``refresh_cube_list``).
    """
    return _load(store, current_registry(registry_path))[0]


def registered_dataset(store, key: str, *, registry_path: Path | None = None) -> DatasetSpec:
    """The dataset with this key; an individual entry is answered without reading the store."""
    registry = current_registry(registry_path)
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise UnknownDataset(f"{key!r} is not a dataset key (expected [a-z][a-z0-9_]*, the whole string) in registry {registry.path}")
    if (entry := registry.entry(key)) is not None:
        return entry
    if registry.collections and (member := registry.member(key, _snapshot(store))) is not None:
        return member
    specs, by_key = _load(store, registry)
    if (spec := by_key.get(key)) is not None:
        return spec
    close = difflib.get_close_matches(key, list(by_key), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if registry.collections and _snapshot(store) is None:
        hint += (f" (the registry has collections {[c.key for c in registry.collections]} but {_store_name(store)} holds no "
                 "cube-list snapshot yet: the sensor takes it, or call refresh_cube_list)")
    raise UnknownDataset(f"dataset {key!r} is not in registry {registry.path} ({len(specs)} datasets{hint})")


def dataset_named(store, name: str, *, registry_path: Path | None = None) -> DatasetSpec:
    """The dataset an operator names by its key or its D4C id (a collection member's id names its table)."""
    registry = current_registry(registry_path)
    for entry in registry.entries:
        if name == entry.id:
            return entry
    if registry.collections and name.startswith(statcan_table_id("")):
        name = statcan_table_key(name.removeprefix(statcan_table_id("")))
    return registered_dataset(store, name, registry_path=registry_path)


def forget_registered_datasets() -> None:
    """Drop this process's cached registry and snapshot (after a snapshot refresh, or in tests)."""
    with _lock:
        _registries.clear()
        _datasets.clear()
        _snapshots.clear()
