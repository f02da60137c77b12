"""Step `zenodo_record`: the version published on Zenodo under the dataset's concept DOI, crash-safe."""

from __future__ import annotations

from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.publication.dataset_lease import done_or_do
from dfc_assets.publication.scratch import local_release_file
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import CATALOG
from dfc_assets.storage.keys import processed_file
from dfc_assets.transform.manifest import Manifest
from dfc_assets.zenodo import PublishedRecord, publish_version
from dfc_assets.zenodo.deposit_metadata import RecordLink, VersionDescription, statcan_table_doi, statcan_table_number
from dfc_assets.zenodo.deposit_metadata import deposit_metadata as build_deposit_metadata
from dfc_assets.zenodo.journal import parse_journal
from dfc_assets.zenodo.publish import DepositFile, check_record_limits
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
    return publisher.published.record(spec.id, version)


def known_concept_recid(publisher: Publisher, spec: DatasetSpec) -> str | None:
    """The dataset's concept record id, from any version already published."""
    return publisher.published.concept_recid(spec.id)


def version_description(spec: DatasetSpec, version: str, manifest: Manifest, *, links: tuple[RecordLink, ...] = (),
                        community: str | None = None) -> VersionDescription:
    """What the Zenodo record says about this version (see ``dfc_assets.zenodo.deposit_metadata``)."""
    output = manifest.output
    source = spec.source
    product_id = getattr(source, "product_id", None) if getattr(source, "kind", None) == "statcan_table" else None
    return VersionDescription(
        dataset_id=spec.id, version=version,
        title_en=spec.title.en, title_fr=spec.title.fr,
        description_en=spec.description.en, description_fr=spec.description.fr,
        producer=spec.producer, producer_url=spec.producer_url,
        license=spec.license, license_url=spec.license_url,
        creators=tuple(spec.creators),
        keywords_en=tuple(spec.keywords), keywords_fr=tuple(spec.keywords_fr),
        upstream_doi=statcan_table_doi(product_id) if product_id else None,
        upstream_product=f"Table {statcan_table_number(product_id)}" if product_id else None,
        source_urls=tuple(manifest.source_urls),
        reference_start=getattr(output, "reference_start", None), reference_end=getattr(output, "reference_end", None),
        files=tuple((f.name, f.sha256) for f in manifest.files), links=links, community=community,
    )


def record_links(publisher: Publisher, spec: DatasetSpec, version: str, manifest: Manifest) -> tuple[RecordLink, ...]:
    """The version's other homes, whose URLs are fixed before it is published."""
    keys = publisher.keys(spec, version)
    url = publisher.store.public_url
    return (
        *(RecordLink(url(keys.release_file(f.name)), "isIdenticalTo", "dataset", f"Mirror of {f.name}") for f in manifest.files),
        RecordLink(url(keys.torrent), "isVariantFormOf", "other", "BitTorrent (.torrent, hybrid v1+v2, web seeds on Zenodo and the mirror)"),
        RecordLink(url(keys.torrent_v1), "isVariantFormOf", "other", "BitTorrent v1 (.torrent for clients without v2)"),
        RecordLink(url(processed_file(spec.id, manifest.primary.extension)), "isVariantFormOf", "dataset", "Latest version of this dataset"),
        RecordLink(url(keys.stac_item), "hasMetadata", "other", "STAC item"),
        RecordLink(url(CATALOG), "isPartOf", "dataset", "Data for Canada catalog (STAC GeoParquet)"),
    )


def deposit_metadata(spec: DatasetSpec, version: str, manifest: Manifest, *, links: tuple[RecordLink, ...] = (),
                     community: str | None = None) -> dict:
    """Our own metadata model, never a GET body sent back (a PUT replaces everything on Zenodo)."""
    try:
        return build_deposit_metadata(version_description(spec, version, manifest, links=links, community=community))
    except LicenseError as error:
        raise PublicationError(f"{label(spec, version)}: {error}") from None


def publish_zenodo(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedRecord:
    """The version's Zenodo record, published now or before. One publisher of the dataset at a time
    (``dataset_lease``): two would race on the concept's one new-version draft, or each create a concept."""
    def published() -> PublishedRecord | None:
        done = published_record(publisher, spec, version)
        if done is not None:
            publisher.log(f"{label(spec, version)}: already published on Zenodo as {done.doi}; nothing to do")
        return done

    return done_or_do(publisher, spec, version, "zenodo_record", published, lambda: _publish(publisher, spec, version))


def _publish(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedRecord:
    keys = publisher.keys(spec, version)
    artifact = load_artifact(publisher, spec, version)
    if artifact is None:
        raise PublicationError(f"{label(spec, version)}: no artifact under {keys.release_prefix}; materialize parquet first")
    manifest = artifact.manifest
    manifest_name = keys.manifest_name
    # Zenodo's limits, from the sizes the manifest gives, before anything is downloaded or created
    check_record_limits(label(spec, version), [*((f.name, f.size) for f in manifest.files), (manifest_name, 0)])
    metadata = deposit_metadata(spec, version, manifest, community=publisher.settings.zenodo_community,
                                links=record_links(publisher, spec, version, manifest))
    workdir = publisher.work_dir(spec, version, "zenodo")
    files = [
        DepositFile(f.name, path, f.size, f.md5) if f.md5 else DepositFile.of(path, f.name)
        for f in manifest.files
        for path in [local_release_file(publisher, spec, version, f, workdir)]
    ]
    files.append(DepositFile.of(publisher.store.download(keys.manifest, workdir / manifest_name)))
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
