"""The latest alias processed/{dataset}.parquet: moved only to a fully published version, and only forward."""

from __future__ import annotations

from dfc_assets.publication.context import Publisher, canonical_json, label
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import processed_artifact, processed_pointer
from dfc_assets.versions import is_newer


def current_latest(publisher: Publisher, spec: DatasetSpec) -> str | None:
    pointer = publisher.read_json(processed_pointer(spec.id))
    return pointer["version"] if pointer else None


def promote_latest(publisher: Publisher, spec: DatasetSpec, version: str) -> bool:
    """Point processed/ at ``version`` unless a newer (or the same) version is already there."""
    current = current_latest(publisher, spec)
    if current == version and publisher.store.head(processed_artifact(spec.id)) is not None:
        return False
    if current is not None and not is_newer(version, current):
        publisher.log(f"{label(spec, version)}: processed/ stays on newer version {current}")
        return False
    keys = publisher.keys(spec, version)
    manifest = publisher.read_json(keys.manifest) or {}
    record = publisher.read_json(keys.zenodo_record) or {}
    publisher.store.copy(keys.artifact, processed_artifact(spec.id))
    pointer = {
        "dataset_id": spec.id,
        "version": version,
        "sha256": manifest.get("output", {}).get("sha256"),
        "size": manifest.get("output", {}).get("size"),
        "doi": record.get("doi"),
        "concept_doi": record.get("concept_doi"),
        "release_url": publisher.store.public_url(keys.artifact),
        "torrent_url": publisher.store.public_url(keys.torrent),
    }
    publisher.store.put_bytes(processed_pointer(spec.id), canonical_json(pointer))
    publisher.log(f"{label(spec, version)}: processed/{spec.id}.parquet now serves version {version} (was {current or 'nothing'})")
    return True
