"""Rebuild versions: the same archived upstream files processed again under a new version key.

After a processing change (a TRANSFORM_CODE_VERSION bump) an operator decides to rebuild: the new
version `{base}.{n}` reuses `base`'s archive (never re-downloaded) and gets its own artifact, DOI
and torrent; processed/ moves to it because it sorts after `base`.
"""

from __future__ import annotations

from collections.abc import Iterable

from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.publication.raw import index_key, load_archive
from dfc_assets.registry import DatasetSpec
from dfc_assets.versions import next_free_version


def prepare_rebuild(publisher: Publisher, spec: DatasetSpec, base_version: str, taken: Iterable[str]) -> str:
    archive = load_archive(publisher, spec, base_version)
    if archive is None:
        raise PublicationError(f"{label(spec, base_version)}: nothing archived, so there is nothing to rebuild from")
    taken = set(taken) | {base_version}
    version = next_free_version(base_version, taken)
    keys = publisher.keys(spec, version)
    files = []
    for facts in archive.files:
        key = keys.archive(facts["file_name"])
        publisher.store.copy(facts["key"], key)
        files.append({**facts, "key": key})
    index = {"dataset_id": spec.id, "version": version, "files": files, "rebuild_of": base_version}
    publisher.store.put_bytes(index_key(publisher, spec, version), canonical_json(index), if_absent=True)
    publisher.log(f"{label(spec, version)}: rebuild of {base_version}, archive copied ({len(files)} files)")
    return version
