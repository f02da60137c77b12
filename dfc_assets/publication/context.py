"""What every publication step needs: settings, the object store, HTTP and Zenodo clients, a log."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dfc_assets.publication.published import Published
from dfc_assets.registry import DatasetSpec
from dfc_assets.settings import Settings
from dfc_assets.storage import ObjectStore, VersionKeys
from dfc_assets.zenodo import ZenodoClient


class PublicationError(RuntimeError):
    """A step could not complete; the message names the dataset, the version and what was wrong."""


@dataclass
class Publisher:
    settings: Settings
    store: ObjectStore
    http: httpx.Client
    zenodo: ZenodoClient
    scratch: Path
    log: Callable[[str], None] = field(default=lambda message: None)
    holder: str = ""  # who publishes (e.g. "run 1f2e... of publish__statcan_table_10"); named to whoever waits for it

    def keys(self, spec: DatasetSpec, version: str) -> VersionKeys:
        return VersionKeys(spec.id, version)

    @property
    def published(self) -> Published:
        """The read side: what the store holds for a dataset version (manifest, record, torrents, item, latest)."""
        return Published(self.store)

    def read_json(self, key: str) -> dict | None:
        try:
            return json.loads(self.store.get_bytes(key))
        except KeyError:
            return None

    def work_dir(self, spec: DatasetSpec, version: str, step: str) -> Path:
        path = self.scratch / spec.key / version / step
        path.mkdir(parents=True, exist_ok=True)
        return path


def label(spec: DatasetSpec, version: str) -> str:
    return f"dataset {spec.key} ({spec.id}) version {version}"


def canonical_json(document: dict) -> bytes:
    """The one JSON form we store: sorted keys, two-space indent, trailing newline (stable bytes)."""
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
