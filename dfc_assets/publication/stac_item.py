"""Step `stac_item`: the STAC item of a fully published version, then the latest alias under processed/."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import shapely.geometry

from dfc_assets.catalog.inbox import announce_item
from dfc_assets.catalog.item import VersionFacts, build_item
from dfc_assets.catalog.validate import validate_item
from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.publication.footprint_png import CANADA_BBOX, canada_polygon
from dfc_assets.publication.latest import promote_latest
from dfc_assets.publication.torrent import load_torrent
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.torrent.webseeds import file_url

@dataclass(frozen=True)
class PublishedItem:
    key: str
    item: dict
    latest_moved: bool


def _as_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = date.fromisoformat(value[:10])
    return datetime.combine(parsed, time(0, 0), tzinfo=timezone.utc)


def version_facts(publisher: Publisher, spec: DatasetSpec, version: str) -> VersionFacts:
    keys = publisher.keys(spec, version)
    artifact = load_artifact(publisher, spec, version)
    record = published_record(publisher, spec, version)
    torrent = load_torrent(publisher, spec, version)
    missing = [name for name, value in (("parquet", artifact), ("zenodo_record", record), ("torrent", torrent)) if value is None]
    if missing:
        raise PublicationError(f"{label(spec, version)}: cannot describe a version that is not fully published; missing {', '.join(missing)}")
    output = artifact.output
    footprint = output.get("footprint") or canada_polygon(tuple(output["bbox"]) if output.get("bbox") else CANADA_BBOX)
    bbox = tuple(shapely.geometry.shape(footprint).bounds)  # an item's bbox must contain its geometry
    zenodo_file = next(f for f in record.files if f.key == keys.artifact_name)
    sources = artifact.manifest.get("sources", [])
    published_at = max((s.get("retrieved_at") or "" for s in sources), default="") or artifact.manifest.get("built_at")
    return VersionFacts(
        dataset_id=spec.id, version=version,
        title_en=spec.title.en, title_fr=spec.title.fr,
        description_en=spec.description.en, description_fr=spec.description.fr,
        license=spec.license, license_url=spec.license_url, keywords=spec.keywords,
        producer=spec.producer, producer_url=spec.producer_url,
        doi=record.doi, concept_doi=record.concept_doi, zenodo_record_url=record.record_url,
        data_url=zenodo_file.url, release_url=publisher.store.public_url(keys.artifact),
        mirror_urls=tuple(file_url(seed, keys.artifact_name) for seed in torrent.info.web_seeds
                          if file_url(seed, keys.artifact_name) not in (zenodo_file.url, publisher.store.public_url(keys.artifact))),
        file_name=keys.artifact_name, media_type="application/vnd.apache.parquet",
        size=int(output["size"]), sha256=output["sha256"], md5=zenodo_file.md5,
        torrent_url=torrent.url, torrent_size=len(torrent.data), torrent_sha256=hashlib.sha256(torrent.data).hexdigest(),
        magnet=torrent.magnet, infohash_v1=torrent.info.infohash_v1, infohash_v2=torrent.info.infohash_v2,
        manifest_url=publisher.store.public_url(keys.manifest),
        geometry=footprint, bbox=bbox,  # type: ignore[arg-type]
        start_datetime=_as_datetime(output.get("reference_start")), end_datetime=_as_datetime(output.get("reference_end")),
        published=datetime.fromisoformat(published_at) if published_at else datetime.now(timezone.utc),
        source_url=sources[0]["url"] if sources else "",
        citation=f"{spec.producer}; Data for Canada ({version[:4]}). {spec.title.en} (version {version}) [Data set]. Zenodo. https://doi.org/{record.doi}",
    )


def write_stac_item(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedItem:
    keys = publisher.keys(spec, version)
    existing = publisher.read_json(keys.stac_item)
    if existing is None:
        item = build_item(version_facts(publisher, spec, version))
        try:
            validate_item(item)
        except Exception as error:
            raise PublicationError(f"{label(spec, version)}: STAC item does not validate: {error}") from error
        publisher.store.put_bytes(keys.stac_item, canonical_json(item), if_absent=True)
        existing = json.loads(canonical_json(item))
    announce_item(publisher.store, spec.id, version)  # for the next catalog update; a retry announces again
    moved = promote_latest(publisher, spec, version)
    return PublishedItem(keys.stac_item, existing, moved)
