"""Step `zenodo_record`: the version published on Zenodo under the dataset's concept DOI, crash-safe."""

from __future__ import annotations

from pathlib import Path

from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.scratch import local_release_file
from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import CATALOG
from dfc_assets.transform.manifest import Manifest
from dfc_assets.zenodo import PublishedRecord, publish_version


class StoreJournal:
    """The Zenodo publication journal of one version, kept in the object store (state/zenodo/...)."""

    def __init__(self, publisher: Publisher, key: str) -> None:
        self.publisher, self.key = publisher, key

    def load(self) -> dict | None:
        return self.publisher.read_json(self.key)

    def save(self, state: dict) -> None:
        self.publisher.store.put_bytes(self.key, canonical_json(state))


def published_record(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedRecord | None:
    return publisher.published.record(spec.id, version)


def known_concept_recid(publisher: Publisher, spec: DatasetSpec) -> str | None:
    """The dataset's concept record id, from any version already published."""
    return publisher.published.concept_recid(spec.id)


def deposit_metadata(spec: DatasetSpec, version: str, artifact_manifest: Manifest, source_urls: list[str], *,
                     community: str | None = None, catalog_url: str | None = None) -> dict:
    """Our own metadata model, never a GET body sent back (a PUT replaces everything on Zenodo)."""
    description = f"<p>{spec.description.en}</p>"
    if spec.description.fr:
        description += f"<p lang=\"fr\"><strong>{spec.title.fr or ''}</strong> {spec.description.fr}</p>"
    description += f"<p>Version {version}. Data for Canada dataset <code>{spec.id}</code>.</p>"
    metadata = {
        "upload_type": "dataset",
        "title": f"{spec.title.en} ({version})",
        "description": description,
        "creators": [{"name": name} for name in spec.creators],
        "access_right": "open",
        "license": spec.license.lower(),
        "keywords": list(spec.keywords),
        "language": "eng",
        "notes": "; ".join(f"sha256 of {f.name}: {f.sha256}" for f in artifact_manifest.files),
    }
    related = [{"identifier": url, "relation": "isDerivedFrom", "resource_type": "dataset"} for url in source_urls if url.startswith("http")]
    if catalog_url:
        related.append({"identifier": catalog_url, "relation": "isPartOf", "resource_type": "dataset"})
    if related:
        metadata["related_identifiers"] = related
    if community:
        metadata["communities"] = [{"identifier": community}]
    return metadata


def publish_zenodo(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedRecord:
    keys = publisher.keys(spec, version)
    done = published_record(publisher, spec, version)
    if done is not None:
        publisher.log(f"{label(spec, version)}: already published on Zenodo as {done.doi}; nothing to do")
        return done
    artifact = load_artifact(publisher, spec, version)
    if artifact is None:
        raise PublicationError(f"{label(spec, version)}: no artifact under {keys.release_prefix}; materialize parquet first")
    workdir = publisher.work_dir(spec, version, "zenodo")
    files: list[Path] = [local_release_file(publisher, spec, version, f, workdir) for f in artifact.files]
    files.append(publisher.store.download(keys.manifest, workdir / keys.manifest.rsplit("/", 1)[-1]))
    source_urls = artifact.manifest.source_urls
    record = publish_version(
        publisher.zenodo,
        dataset_id=spec.id,
        version=version,
        metadata=deposit_metadata(spec, version, artifact.manifest, source_urls, community=publisher.settings.zenodo_community,
                                  catalog_url=publisher.store.public_url(CATALOG)),
        files=files,
        concept_recid=known_concept_recid(publisher, spec),
        journal=StoreJournal(publisher, keys.zenodo_journal),
        log=publisher.log,
    )
    publisher.store.put_bytes(keys.zenodo_record, canonical_json(record.to_dict()), if_absent=True)
    publisher.log(f"{label(spec, version)}: published on Zenodo: {record.doi} (concept {record.concept_doi}) {record.record_url}")
    return record
