"""Asset `catalog/stac_geoparquet`: one STAC GeoParquet file rebuilt from every published item."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from dfc_assets.catalog.collection import DatasetFacts, build_collection
from dfc_assets.catalog.file_checks import CatalogFileError, verify_catalog_file
from dfc_assets.catalog.geoparquet import CatalogFile, write_catalog
from dfc_assets.catalog.stac_json import write_stac_json
from dfc_assets.catalog.validate import validate_item
from dfc_assets.publication.context import PublicationError, Publisher
from dfc_assets.publication.writer_lock import writer_lock
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import CATALOG, CATALOG_BUILDS_PREFIX, STAC_JSON_PREFIX, processed_artifact
from dfc_assets.storage.media_types import PARQUET, media_type_for


@dataclass(frozen=True)
class PublishedCatalog:
    key: str
    build_key: str
    url: str
    file: CatalogFile
    items_per_dataset: dict[str, int]


MAX_REBUILDS = 5
CATALOG_LOCK = "catalog/.writer-lock"


def item_keys(publisher: Publisher, spec: DatasetSpec) -> list[str]:
    return publisher.published.item_keys(spec.id)


def published_items(publisher: Publisher, spec: DatasetSpec) -> list[dict]:
    return [json.loads(publisher.store.get_bytes(key)) for key in item_keys(publisher, spec)]


def _all_item_keys(publisher: Publisher, specs: Sequence[DatasetSpec]) -> set[str]:
    return {key for spec in specs for key in item_keys(publisher, spec)}


def build_catalog(publisher: Publisher, specs: Sequence[DatasetSpec]) -> PublishedCatalog:
    """Rebuild from every item, one writer at a time; publish a build only if no item appeared while it ran.

    Items are write-once, so the set of item keys only grows: an unchanged set means nothing was missed. The
    writer lease (besides the Dagster pool `stac_catalog`) keeps a slower rebuild from replacing a newer one.
    """
    with writer_lock(publisher.store, CATALOG_LOCK, what="catalog", log=publisher.log):
        return _build_until_stable(publisher, specs)


def _build_until_stable(publisher: Publisher, specs: Sequence[DatasetSpec]) -> PublishedCatalog:
    for _ in range(MAX_REBUILDS):
        listed = _all_item_keys(publisher, specs)
        built = _build(publisher, specs)
        if _all_item_keys(publisher, specs) == listed:
            publisher.store.copy(built.build_key, CATALOG)
            publisher.log(f"catalog: {built.file.rows} items from {len(built.collections)} datasets written to {CATALOG} (build {built.build_key})")
            return PublishedCatalog(CATALOG, built.build_key, publisher.store.public_url(CATALOG), built.file, built.counts)
        publisher.log("catalog: versions were published while this build ran; rebuilding so that no row is lost")
    raise PublicationError(f"catalog: items kept changing over {MAX_REBUILDS} rebuilds; {CATALOG} stays as it was, try again")


@dataclass(frozen=True)
class _Build:
    items: list[dict]
    collections: list[dict]
    counts: dict[str, int]
    file: CatalogFile
    build_key: str


def _build(publisher: Publisher, specs: Sequence[DatasetSpec]) -> _Build:
    items: list[dict] = []
    collections: list[dict] = []
    counts: dict[str, int] = {}
    for spec in specs:
        dataset_items = published_items(publisher, spec)
        counts[spec.key] = len(dataset_items)
        if not dataset_items:
            continue
        for item in dataset_items:
            try:
                validate_item(item)
            except Exception as error:
                raise PublicationError(f"catalog: item {item.get('id')} of dataset {spec.key} does not validate: {error}") from error
        items.extend(dataset_items)
        collections.append(build_collection(_dataset_facts(publisher, spec, dataset_items), dataset_items))
    out = publisher.scratch / "catalog" / "dfc-catalog.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    written = write_catalog(items, collections, out)
    try:
        verify_catalog_file(written.path)
    except CatalogFileError as error:
        raise PublicationError(f"catalog: the rebuilt file does not validate, so {CATALOG} stays as it was: {error}") from error
    build_key = f"{CATALOG_BUILDS_PREFIX}dfc-catalog-{written.sha256[:16]}.parquet"
    publisher.store.put_file(build_key, written.path, if_absent=True)
    stac_dir = publisher.scratch / "catalog" / "stac"
    for path in write_stac_json(items, collections, stac_dir, geoparquet_url=publisher.store.public_url(CATALOG)):
        publisher.store.put_file(STAC_JSON_PREFIX + path.relative_to(stac_dir).as_posix(), path)
    return _Build(items, collections, counts, written, build_key)


def _dataset_facts(publisher: Publisher, spec: DatasetSpec, items: list[dict]) -> DatasetFacts:
    concept = next((i["properties"].get("dfc:concept_doi") for i in items if i["properties"].get("dfc:concept_doi")), None)
    pointer = publisher.published.latest(spec.id)  # the main file's alias: .parquet, or .pmtiles for a prebuilt one
    return DatasetFacts(
        dataset_id=spec.id, title_en=spec.title.en, title_fr=spec.title.fr,
        description_en=spec.description.en, description_fr=spec.description.fr,
        license=spec.license, license_url=spec.license_url, keywords=spec.keywords,
        producer=spec.producer, producer_url=spec.producer_url, concept_doi=concept,
        latest_url=publisher.store.public_url(pointer.files[0].processed_key if pointer else processed_artifact(spec.id)),
        latest_media_type=media_type_for(pointer.files[0].processed_key) if pointer else PARQUET,
    )
