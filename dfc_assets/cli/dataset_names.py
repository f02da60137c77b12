"""Datasets an operator names on the command line (a registry key, a D4C id or a shell pattern), as D4C ids.

Collection members are known from the cube-list snapshot in the store: the production store when its
variables are set, else the embedded default's folder. Without a store only individual entries are known;
an unknown name passes through as it is (an id or a pattern).
"""

from __future__ import annotations

import os
from pathlib import Path

from dfc_assets.registry import UnknownDataset, dataset_named

PRODUCTION_VARIABLES = ("DFC_SERVICES_FILE", "DFC_S3_BUCKET", "DFC_STORE")


def naming_store(workdir: Path | None):
    """The store whose cube list names the collection members, or None when there is none to read."""
    if any(os.environ.get(name) for name in PRODUCTION_VARIABLES):
        from dfc_assets.defs.resources import object_store
        from dfc_assets.settings import SettingsError, load_settings

        try:
            return object_store(load_settings())
        except SettingsError:
            return None
    folder = Path(workdir) / "store" if workdir is not None else None
    if folder is None or not folder.is_dir():
        return None
    from dfc_assets.storage.local import LocalFolderStore

    return LocalFolderStore(folder, "http://127.0.0.1/")  # read only: no public URL is made


def dataset_id(name: str, store) -> str:
    """The D4C id of the dataset named by key or id, a collection member included; any other name unchanged."""
    try:
        return dataset_named(store, name).id
    except UnknownDataset:
        return name
