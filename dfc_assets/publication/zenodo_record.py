"""Step `zenodo_record`: the version published on Zenodo under the dataset's concept DOI, crash-safe."""

from __future__ import annotations

import json
from pathlib import Path

from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import CATALOG
from dfc_assets.storage.keys import ZENODO_RECORD_SUFFIX, processed_artifact
from dfc_assets.zenodo import PublishedRecord, publish_version
from dfc_assets.zenodo.publish import check_record_limits
from dfc_assets.zenodo.deposit_metadata import RecordLink, VersionDescription, statcan_table_doi, statcan_table_number
from dfc_assets.zenodo.deposit_metadata import deposit_metadata as build_deposit_metadata
from dfc_assets.zenodo.journal import parse_journal
from dfc_assets.zenodo.vocabulary import LicenseError


class StoreJournal:
    """The Zenodo publication journal of one version, kept in the object store (state/zenodo/...)."""

    def __init__(self, publisher: Publisher, key: str) -> None:
        self.publisher, self.key = publisher, key

    def load(self) -> dict | None:
        try:
            raw = self.publisher.store.get_bytes(self.key)
        except KeyError:
            return None
        return parse_journal(raw, f"{self.key} in {self.publisher.store.describe()}")

    def save(self, state: dict) -> None:
        self.publisher.store.put_bytes(self.key, canonical_json(state))


def published_record(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedRecord | None:
    record = publisher.read_json(publisher.keys(spec, version).zenodo_record)
    return PublishedRecord.from_dict(record) if record else None


def known_concept_recid(publisher: Publisher, spec: DatasetSpec) -> str | None:
    """The dataset's concept record id, from any version already published."""
    for info in publisher.store.list(f"releases/{spec.id}/"):
        if info.key.endswith(ZENODO_RECORD_SUFFIX):
            return str(json.loads(publisher.store.get_bytes(info.key))["concept_recid"])
    return None


def version_description(spec: DatasetSpec, version: str, artifact_manifest: dict, *, links: tuple[RecordLink, ...] = (),
                        community: str | None = None, files: tuple[tuple[str, str], ...] = ()) -> VersionDescription:
    """What the Zenodo record says about this version (see ``dfc_assets.zenodo.deposit_metadata``)."""
    output = artifact_manifest.get("output", {})
    source = spec.source
    product_id = getattr(source, "product_id", None) if getattr(source, "kind", None) == "statcan_table" else None
    if not files and output.get("sha256"):
        files = ((output.get("file_name") or f"{spec.id}_{version}.parquet", output["sha256"]),)
    return VersionDescription(
        dataset_id=spec.id, version=version,
        title_en=spec.title.en, title_fr=spec.title.fr,
        description_en=spec.description.en, description_fr=spec.description.fr,
        producer=spec.producer, producer_url=spec.producer_url,
        license=spec.license, license_url=spec.license_url,
        creators=tuple(spec.creators),
        keywords_en=tuple(spec.keywords), keywords_fr=tuple(getattr(spec, "keywords_fr", ())),
        upstream_doi=statcan_table_doi(product_id) if product_id else None,
        upstream_product=f"Table {statcan_table_number(product_id)}" if product_id else None,
        source_urls=tuple(s["url"] for s in artifact_manifest.get("sources", []) if s.get("url")),
        reference_start=output.get("reference_start"), reference_end=output.get("reference_end"),
        files=files, links=links, community=community,
    )


def record_links(publisher: Publisher, spec: DatasetSpec, version: str, file_keys: list[str]) -> tuple[RecordLink, ...]:
    """The version's other homes, whose URLs are fixed before it is published."""
    keys = publisher.keys(spec, version)
    url = publisher.store.public_url
    return (
        *(RecordLink(url(key), "isIdenticalTo", "dataset", f"Mirror of {key.rsplit('/', 1)[-1]}") for key in file_keys),
        RecordLink(url(keys.torrent), "isVariantFormOf", "other", "BitTorrent (.torrent, web seeds on Zenodo and the mirror)"),
        RecordLink(url(processed_artifact(spec.id)), "isVariantFormOf", "dataset", "Latest version of this dataset"),
        RecordLink(url(keys.stac_item), "hasMetadata", "other", "STAC item"),
        RecordLink(url(CATALOG), "isPartOf", "dataset", "Data for Canada catalog (STAC GeoParquet)"),
    )


def deposit_metadata(spec: DatasetSpec, version: str, artifact_manifest: dict, *, links: tuple[RecordLink, ...] = (),
                     community: str | None = None) -> dict:
    """Our own metadata model, never a GET body sent back (a PUT replaces everything on Zenodo)."""
    try:
        return build_deposit_metadata(version_description(spec, version, artifact_manifest, links=links, community=community))
    except LicenseError as error:
        raise PublicationError(f"{label(spec, version)}: {error}") from None


def publish_zenodo(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedRecord:
    keys = publisher.keys(spec, version)
    done = published_record(publisher, spec, version)
    if done is not None:
        publisher.log(f"{label(spec, version)}: already published on Zenodo as {done.doi}; nothing to do")
        return done
    artifact = load_artifact(publisher, spec, version)
    if artifact is None:
        raise PublicationError(f"{label(spec, version)}: no artifact under {keys.release_prefix}; materialize parquet first")
    # Zenodo's limits, from the sizes the manifest gives, before anything is downloaded or created
    check_record_limits(label(spec, version), [(keys.artifact_name, int(artifact.output["size"])),
                                               (keys.manifest.rsplit("/", 1)[-1], 0)])
    workdir = publisher.work_dir(spec, version, "zenodo")
    metadata = deposit_metadata(spec, version, artifact.manifest, community=publisher.settings.zenodo_community,
                                links=record_links(publisher, spec, version, [keys.artifact, keys.manifest]))
    files: list[Path] = [
        publisher.store.download(keys.artifact, workdir / keys.artifact_name),
        publisher.store.download(keys.manifest, workdir / keys.manifest.rsplit("/", 1)[-1]),
    ]
    if files[0].stat().st_size != artifact.output["size"]:
        raise PublicationError(f"{label(spec, version)}: {keys.artifact} is {files[0].stat().st_size} bytes, its manifest says {artifact.output['size']}")
    record = publish_version(
        publisher.zenodo,
        dataset_id=spec.id,
        version=version,
        metadata=metadata,
        files=files,
        concept_recid=known_concept_recid(publisher, spec),
        journal=StoreJournal(publisher, keys.zenodo_journal),
        log=publisher.log,
    )
    publisher.store.put_bytes(keys.zenodo_record, canonical_json(record.to_dict()), if_absent=True)
    publisher.log(f"{label(spec, version)}: published on Zenodo: {record.doi} (concept {record.concept_doi}) {record.record_url}")
    return record
