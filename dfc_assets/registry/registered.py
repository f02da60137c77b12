"""The registered datasets: the registry YAML plus the cube-list snapshot, read once per process.

Everything that needs "the datasets" (definitions, sensors, steps, operator commands) asks here.
The YAML is parsed once per file version; the snapshot costs one store GET, and only when the
registry has collections.
"""

from __future__ import annotations

import difflib
import threading
from pathlib import Path

from dfc_assets.registry.cube_list import read_cube_list
from dfc_assets.registry.fields import RegistryError
from dfc_assets.registry.load import KEY_PATTERN, Registry, default_registry_path, load_registry
from dfc_assets.registry.spec import DatasetSpec

_lock = threading.Lock()
_registries: dict[tuple, Registry] = {}
_datasets: dict[tuple, tuple[tuple[DatasetSpec, ...], dict[str, DatasetSpec]]] = {}


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


def _load(store, registry: Registry) -> tuple[tuple[DatasetSpec, ...], dict[str, DatasetSpec]]:
    cache_key = (_file_version(registry.path), _store_name(store))
    with _lock:
        known = _datasets.get(cache_key)
    if known is None:
        snapshot = read_cube_list(store) if registry.collections and store is not None else None
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
    specs, by_key = _load(store, registry)
    if (spec := by_key.get(key)) is not None:
        return spec
    close = difflib.get_close_matches(key, list(by_key), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if registry.collections and read_snapshot_missing(store, specs, registry):
        hint += (f" (the registry has collections {[c.key for c in registry.collections]} but {_store_name(store)} holds no "
                 "cube-list snapshot yet: the sensor takes it, or call refresh_cube_list)")
    raise UnknownDataset(f"dataset {key!r} is not in registry {registry.path} ({len(specs)} datasets{hint})")


def read_snapshot_missing(store, specs: tuple[DatasetSpec, ...], registry: Registry) -> bool:
    return store is None or len(specs) == len(registry.entries) and read_cube_list(store) is None


def forget_registered_datasets() -> None:
    """Drop this process's cached registry and snapshot (after a snapshot refresh, or in tests)."""
    with _lock:
        _registries.clear()
        _datasets.clear()
