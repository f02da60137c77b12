"""Published versions written straight into a store, as the steps leave them: files, manifest, Zenodo record, torrent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from dfc_assets.publication.context import Publisher, canonical_json
from dfc_assets.registry import load_registry
from dfc_assets.settings import Settings
from dfc_assets.storage import LocalFolderStore, VersionKeys
from dfc_assets.storage.media_types import media_type_for
from dfc_assets.transform.manifest import ManifestFile, OutputFacts, build_manifest
from dfc_assets.zenodo.record import PublishedFile, PublishedRecord

SPEC = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")


def make_publisher(root: Path, scratch: Path, http: httpx.Client | None = None) -> Publisher:
    settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/", local_store_root=root)
    return Publisher(settings=settings, store=LocalFolderStore(root, settings.public_base_url), http=http, zenodo=None, scratch=scratch)  # type: ignore[arg-type]


def put_version(publisher: Publisher, version: str, contents: dict[str, bytes], *, record: bool = True, torrent: bool = True,
                manifest: bool = True) -> list[ManifestFile]:
    """``contents`` maps extensions ("parquet", "pmtiles") to bytes; the first is the main file."""
    keys = VersionKeys(SPEC.id, version)
    files = []
    for extension, data in contents.items():
        name = keys.file_name(extension)
        publisher.store.put_bytes(keys.release_file(name), data, if_absent=True)
        files.append(ManifestFile(name, len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(),
                                  media_type_for(name), "data" if not files else "tiles"))
    if manifest:
        output = OutputFacts(files[0].name, files[0].sha256, files[0].size, rows=1, bbox=(-141.0, 41.7, -52.6, 82.5))
        built = build_manifest(dataset_id=SPEC.id, version=version, sources=[], output=output, files=files, code_version="c", configuration={})
        publisher.store.put_bytes(keys.manifest, built.to_bytes(), if_absent=True)
    if record:
        recid = 100 + len(version)
        published = PublishedRecord(
            record_id=recid, concept_recid="99", doi=f"10.5281/zenodo.{recid}", concept_doi="10.5281/zenodo.99",
            doi_url=f"https://doi.org/10.5281/zenodo.{recid}", concept_doi_url="https://doi.org/10.5281/zenodo.99",
            record_url=f"http://127.0.0.1:9/records/{recid}", version=version,
            files=tuple(PublishedFile(f.name, f.size, f.md5 or "", f"http://127.0.0.1:9/records/{recid}/files/{f.name}") for f in files),
        )
        publisher.store.put_bytes(keys.zenodo_record, canonical_json(published.to_dict()), if_absent=True)
    if torrent:
        publisher.store.put_bytes(keys.torrent, b"d4:infod4:name1:xee", if_absent=True)
    return files
