"""The STAC collection of one dataset: bilingual description, concept DOI, extent of all its versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dfc_assets.catalog import conventions as c


@dataclass(frozen=True)
class DatasetFacts:
    dataset_id: str
    title_en: str
    title_fr: str | None
    description_en: str
    description_fr: str | None
    license: str
    license_url: str | None
    keywords: tuple[str, ...]
    producer: str
    producer_url: str | None
    concept_doi: str | None
    latest_url: str | None
    """processed/ URL: a collection-level asset that moves with each release, never an alternate of a version."""
    latest_media_type: str = c.PARQUET_MEDIA_TYPE


def _interval(items: Sequence[dict]) -> list[str | None]:
    starts, ends = [], []
    for item in items:
        p = item["properties"]
        starts.append(p.get("start_datetime") or p.get("datetime"))
        ends.append(p.get("end_datetime") or p.get("datetime"))
    starts = [s for s in starts if s]
    ends = [e for e in ends if e]
    # Compare as instants: text with and without fractional seconds does not sort as time.
    start = min(starts, key=c.parse_datetime) if starts else None
    end = max(ends, key=c.parse_datetime) if ends else None
    return [start, end]


def _spatial(items: Sequence[dict]) -> list[float]:
    boxes = [item["bbox"] for item in items]
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def build_collection(dataset: DatasetFacts, items: Sequence[dict]) -> dict:
    """A STAC 1.1.0 collection whose extent covers every given item (all versions of the dataset)."""
    if not items:
        raise ValueError(f"dataset {dataset.dataset_id!r}: a collection needs at least one published version")
    strangers = sorted({i["id"] for i in items if i.get("collection") != dataset.dataset_id})
    if strangers:
        raise ValueError(f"dataset {dataset.dataset_id!r}: items {strangers} belong to another collection")
    return collection_with_extent(dataset, _spatial(items), _interval(items))


def refreshed_collection(dataset: DatasetFacts, previous: dict) -> dict:
    """The collection of a dataset whose versions did not change: the extent of `previous`, the facts of today's spec."""
    return collection_with_extent(dataset, previous["extent"]["spatial"]["bbox"][0], previous["extent"]["temporal"]["interval"][0])


def collection_with_extent(dataset: DatasetFacts, spatial: list[float], interval: list[str | None]) -> dict:
    producer = {"name": dataset.producer, "roles": ["producer", "licensor"]}
    if dataset.producer_url:
        producer["url"] = dataset.producer_url
    collection: dict = {
        "type": "Collection",
        "stac_version": c.STAC_VERSION,
        "stac_extensions": list(c.COLLECTION_EXTENSIONS if dataset.concept_doi else (c.LANGUAGE_EXTENSION,)),
        "id": dataset.dataset_id,
        "title": dataset.title_en,
        "description": dataset.description_en,
        "language": dict(c.ENGLISH),
        "license": dataset.license,
        "providers": [producer, dict(c.DATA_FOR_CANADA), dict(c.ZENODO_HOST)],
        "extent": {"spatial": {"bbox": [list(spatial)]}, "temporal": {"interval": [list(interval)]}},
        "links": [],
        "assets": {},
    }
    if dataset.title_fr or dataset.description_fr:
        collection["languages"] = [dict(c.FRENCH)]
    if dataset.title_fr:
        collection["dfc:title_fr"] = dataset.title_fr
    if dataset.description_fr:
        collection["dfc:description_fr"] = dataset.description_fr
    if dataset.keywords:
        collection["keywords"] = list(dataset.keywords)
    if dataset.concept_doi:
        collection["sci:doi"] = dataset.concept_doi
        collection["links"].append({"rel": "cite-as", "href": c.doi_url(dataset.concept_doi), "title": f"Concept DOI {dataset.concept_doi} (all versions)"})
    if dataset.license_url:
        collection["links"].append({"rel": "license", "href": dataset.license_url, "title": dataset.license})
    if dataset.latest_url:
        collection["assets"]["latest"] = {
            "href": dataset.latest_url, "type": dataset.latest_media_type, "roles": ["data", "latest-version"],
            "title": f"{dataset.title_en} (latest version; this URL moves with each release)",
        }
    return collection
