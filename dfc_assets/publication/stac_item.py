"""Step `stac_item`: the STAC item of a fully published version, then the latest alias under processed/."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import shapely.geometry

from dfc_assets.catalog.inbox import announce_item
from dfc_assets.catalog.item import ExtraFile, TorrentV1, VersionFacts, build_item
from dfc_assets.catalog.validate import validate_item
from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.publication.dataset_lease import dataset_lease
from dfc_assets.publication.footprint_png import CANADA_BBOX, canada_polygon
from dfc_assets.publication.latest import promote_latest
from dfc_assets.publication.scratch import evict
from dfc_assets.publication.torrent import load_torrent
from dfc_assets.registry import DatasetSpec
from dfc_assets.torrent.metainfo import TorrentInfo, read_torrent
from dfc_assets.torrent.webseeds import web_seed_file_urls
from dfc_assets.transform.manifest import ROLE_DATA, ROLE_TILES

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


ROLES_ON_ITEM = {ROLE_DATA: ("data",), ROLE_TILES: ("data", "tiles", "visual")}
ASSET_KEY_OF_ROLE = {ROLE_TILES: "tiles", "documentation": "documentation"}


def _mirror_urls(info: TorrentInfo, name: str, ours: tuple[str, ...]) -> tuple[str, ...]:
    """Where each web seed of the torrent serves file ``name`` (BEP 19 directory form), less our own URLs."""
    urls = (web_seed_file_urls(seed, info).get(name) for seed in info.web_seeds)
    return tuple(url for url in urls if url is not None and url not in ours)


def version_facts(publisher: Publisher, spec: DatasetSpec, version: str) -> VersionFacts:
    published = publisher.published.version(spec.id, version)
    torrent = load_torrent(publisher, spec, version)
    missing = [name for name, present in (("parquet", published.has_files), ("zenodo_record", published.record is not None),
                                          ("torrent", torrent is not None)) if not present]
    if missing:
        raise PublicationError(f"{label(spec, version)}: cannot describe a version that is not fully published; missing {', '.join(missing)}")
    manifest, record, keys = published.manifest, published.record, published.keys
    assert manifest is not None and record is not None and torrent is not None
    output = manifest.output
    footprint = output.footprint or canada_polygon(output.bbox or CANADA_BBOX)
    bbox = tuple(shapely.geometry.shape(footprint).bounds)  # an item's bbox must contain its geometry

    def zenodo_url(name: str) -> str:
        zenodo_file = published.zenodo_file(name)
        if zenodo_file is None:
            raise PublicationError(f"{label(spec, version)}: Zenodo record {record.record_id} has no file {name}")
        return zenodo_file.url

    primary = manifest.primary
    primary_zenodo = published.zenodo_file(primary.name)
    extra = []
    for f in manifest.files[1:]:
        asset_key = ASSET_KEY_OF_ROLE.get(f.role)
        if asset_key is None:
            raise PublicationError(f"{label(spec, version)}: file {f.name} has role {f.role!r}, which the STAC item has no asset for")
        release_url = publisher.store.public_url(keys.release_file(f.name))
        extra.append(ExtraFile(
            asset_key=asset_key, file_name=f.name, media_type=f.media_type, roles=ROLES_ON_ITEM.get(f.role, (f.role,)),
            size=f.size, sha256=f.sha256, data_url=zenodo_url(f.name), release_url=release_url,
            mirror_urls=_mirror_urls(torrent.info, f.name, (zenodo_url(f.name), release_url)),
        ))
    v1 = None
    if published.torrent_v1 is not None:
        v1_info = read_torrent(published.torrent_v1.data)
        v1 = TorrentV1(url=publisher.store.public_url(published.torrent_v1.key), size=len(published.torrent_v1.data),
                       sha256=hashlib.sha256(published.torrent_v1.data).hexdigest(), infohash_v1=v1_info.infohash_v1 or "")
    release_url = publisher.store.public_url(keys.release_file(primary.name))
    published_at = manifest.retrieved_at
    return VersionFacts(
        dataset_id=spec.id, version=version,
        title_en=spec.title.en, title_fr=spec.title.fr,
        description_en=spec.description.en, description_fr=spec.description.fr,
        license=spec.license, license_url=spec.license_url, keywords=spec.keywords,
        producer=spec.producer, producer_url=spec.producer_url,
        doi=record.doi, concept_doi=record.concept_doi, zenodo_record_url=record.record_url,
        data_url=zenodo_url(primary.name), release_url=release_url,
        mirror_urls=_mirror_urls(torrent.info, primary.name, (zenodo_url(primary.name), release_url)),
        file_name=primary.name, media_type=primary.media_type,
        size=primary.size, sha256=primary.sha256, md5=primary.md5 or (primary_zenodo.md5 if primary_zenodo else None),
        torrent_url=torrent.url, torrent_size=len(torrent.data), torrent_sha256=hashlib.sha256(torrent.data).hexdigest(),
        magnet=torrent.magnet, infohash_v1=torrent.info.infohash_v1, infohash_v2=torrent.info.infohash_v2,
        manifest_url=publisher.store.public_url(keys.manifest),
        geometry=footprint, bbox=bbox,  # type: ignore[arg-type]
        start_datetime=_as_datetime(output.reference_start), end_datetime=_as_datetime(output.reference_end),
        published=datetime.fromisoformat(published_at) if published_at else datetime.now(timezone.utc),
        source_url=manifest.sources[0].url if manifest.sources else "",
        citation=f"{spec.producer}; Data for Canada ({version[:4]}). {spec.title.en} (version {version}) [Data set]. Zenodo. https://doi.org/{record.doi}",
        extra_files=tuple(extra), torrent_v1=v1,
    )


def write_stac_item(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedItem:
    """The version's item (written once), announced to the catalog, then processed/ moved forward to it.

    Always under the dataset's lease (``dataset_lease``), even when the item exists: processed/ is one pointer per
    dataset, and two runs promoting two versions at once could move it backwards; a rerun finishes a torn move."""
    with dataset_lease(publisher, spec, version, "stac_item"):
        return _write_and_promote(publisher, spec, version)


def _write_and_promote(publisher: Publisher, spec: DatasetSpec, version: str) -> PublishedItem:
    keys = publisher.keys(spec, version)
    existing = publisher.published.item(spec.id, version)
    if existing is not None:
        publisher.log(f"{label(spec, version)}: STAC item already written; keeping it")
    else:
        item = build_item(version_facts(publisher, spec, version))
        try:
            validate_item(item)
        except Exception as error:
            raise PublicationError(f"{label(spec, version)}: STAC item does not validate: {error}") from error
        publisher.store.put_bytes(keys.stac_item, canonical_json(item), if_absent=True)
        existing = json.loads(canonical_json(item))
    announce_item(publisher.store, spec.id, version)  # for the next catalog update; a retry announces again
    moved = promote_latest(publisher, spec, version)
    manifest = publisher.published.manifest(spec.id, version)
    if manifest is not None:
        evict(f.sha256 for f in manifest.files)  # the version is fully published: its local copies are done with
    return PublishedItem(keys.stac_item, existing, moved)
