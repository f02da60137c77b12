"""The latest aliases under processed/: moved only to a fully published version, only forward, never seen torn.

A version's files are copied to ``processed/{D}.{ext}`` and then the pointer ``processed/{D}.json`` is written:
it names the version, and for every file the alias key, the immutable release key and its sha256 and size. The
pointer is written last, so whatever it names is already in place; files of the previous version that the new one
lacks are deleted only after the pointer stopped naming them. A writer that dies between the writes leaves the
old pointer (still true of the immutable keys it names) beside some new aliases; the next promotion (a rerun of
``stac_item``) finishes the move. Readers in this code read the pointer and then the release keys it names,
never the aliases, so they never see a file and a pointer that disagree; an HTTP reader of an alias checks its
sha256 against the pointer (README, "processed/").
"""

from __future__ import annotations

from dfc_assets.publication.context import Publisher, canonical_json, label
from dfc_assets.publication.published import LatestFile, LatestPointer
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import processed_pointer
from dfc_assets.storage.keys import processed_file
from dfc_assets.versions import is_newer


def current_latest(publisher: Publisher, spec: DatasetSpec) -> str | None:
    return publisher.published.latest_version(spec.id)


def promote_latest(publisher: Publisher, spec: DatasetSpec, version: str) -> bool:
    """Point processed/ at ``version`` unless a newer version is already there; finish an interrupted move."""
    published = publisher.published
    current = published.latest(spec.id)
    if current is not None and current.version == version and not published.stale_aliases(spec.id):
        return False
    if current is not None and current.version != version and not is_newer(version, current.version):
        publisher.log(f"{label(spec, version)}: processed/ stays on newer version {current.version}")
        return False
    target = published.version(spec.id, version)
    if target.manifest is None:
        raise ValueError(f"{label(spec, version)}: no manifest under releases/; nothing to move processed/ to")
    keys = target.keys
    files = tuple(
        LatestFile(f.name, processed_file(spec.id, f.extension), keys.release_file(f.name), f.sha256, f.size, f.role)
        for f in target.manifest.files
    )
    for f in files:
        publisher.store.copy(f.release_key, f.processed_key)
    record = target.record
    pointer = LatestPointer(
        dataset_id=spec.id, version=version, files=files,
        doi=record.doi if record else None, concept_doi=record.concept_doi if record else None,
        release_url=publisher.store.public_url(files[0].release_key), torrent_url=publisher.store.public_url(keys.torrent),
    )
    publisher.store.put_bytes(processed_pointer(spec.id), canonical_json(pointer.to_dict()))
    for orphan in published.orphan_aliases(spec.id, pointer):  # the previous version's files this one lacks
        publisher.store.delete(orphan)
    publisher.log(f"{label(spec, version)}: processed/ now serves version {version} "
                  f"({', '.join(f.processed_key for f in files)}; was {current.version if current else 'nothing'})")
    return True
