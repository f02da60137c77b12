"""Synthetic but realistic version facts for the catalog tests and benchmarks."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timezone

from dfc_assets.catalog.collection import DatasetFacts
from dfc_assets.catalog.item import VersionFacts

STATCAN_TABLE = "ca_statcan_2021A000011124_d4c-datapkg-statistical_table_33100036"
BOUNDARIES = "ca_statcan_2021A000011124_d4c-datapkg-boundaries_provinces"
CANADA_BBOX = (-141.01, 41.68, -52.62, 83.11)
MONTREAL_BBOX = (-74.0, 45.4, -73.47, 45.71)


def _box(bbox: tuple[float, float, float, float]) -> dict:
    w, s, e, n = bbox
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _hex(text: str, length: int = 64) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def version_facts(dataset_id: str = STATCAN_TABLE, version: str = "2025-06-11", *, record: int = 1001,
                  bbox: tuple[float, float, float, float] = CANADA_BBOX, mirrors: int = 1,
                  base: str = "http://127.0.0.1:9/dfc") -> VersionFacts:
    stem = f"{dataset_id}_{version}"
    year = int(version[:4]) if version[:4].isdigit() else 2025
    return VersionFacts(
        dataset_id=dataset_id, version=version,
        title_en="Monthly survey of food services and drinking places", title_fr="Enquête mensuelle sur les services de restauration",
        description_en="Sales by province, seasonally adjusted.", description_fr="Ventes par province, désaisonnalisées.",
        license="OGL-Canada-2.0", license_url="https://open.canada.ca/en/open-government-licence-canada",
        keywords=("food services", "statcan"), producer="Statistics Canada", producer_url="https://www.statcan.gc.ca",
        doi=f"10.5281/zenodo.{record}", concept_doi="10.5281/zenodo.1000", zenodo_record_url=f"https://zenodo.org/records/{record}",
        data_url=f"https://zenodo.org/records/{record}/files/{stem}.parquet",
        release_url=f"{base}/releases/{dataset_id}/{version}/{stem}.parquet",
        mirror_urls=tuple(f"https://mirror{i}.example/releases/{dataset_id}/{version}/{stem}.parquet" for i in range(1, mirrors + 1)),
        file_name=f"{stem}.parquet", media_type="application/vnd.apache.parquet",
        size=123_456 + record, sha256=_hex(stem), md5=_hex(stem, 32),
        torrent_url=f"{base}/releases/{dataset_id}/{version}/{stem}.parquet.torrent", torrent_size=812, torrent_sha256=_hex("t" + stem),
        magnet=f"magnet:?xt=urn:btih:{_hex('v1' + stem, 40)}&xt=urn:btmh:1220{_hex('v2' + stem)}&dn={stem}.parquet",
        infohash_v1=_hex("v1" + stem, 40), infohash_v2=_hex("v2" + stem),
        manifest_url=f"{base}/releases/{dataset_id}/{version}/{stem}.manifest.json",
        geometry=_box(bbox), bbox=bbox,
        start_datetime=datetime(year, 1, 1, tzinfo=timezone.utc), end_datetime=datetime(year, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
        published=datetime(year, 6, 11, 8, 30, 0, 123456, tzinfo=timezone.utc),
        source_url="https://www150.statcan.gc.ca/n1/tbl/csv/33100036-eng.zip",
    )


def dataset_facts(dataset_id: str = STATCAN_TABLE, concept_doi: str | None = "10.5281/zenodo.1000") -> DatasetFacts:
    return DatasetFacts(
        dataset_id=dataset_id, title_en="Monthly survey of food services and drinking places",
        title_fr="Enquête mensuelle sur les services de restauration",
        description_en="Sales by province.", description_fr="Ventes par province.",
        license="OGL-Canada-2.0", license_url="https://open.canada.ca/en/open-government-licence-canada",
        keywords=("statcan",), producer="Statistics Canada", producer_url="https://www.statcan.gc.ca",
        concept_doi=concept_doi, latest_url=f"http://127.0.0.1:9/dfc/processed/{dataset_id}.parquet",
    )


def without_reference_period(facts: VersionFacts) -> VersionFacts:
    return replace(facts, start_datetime=None, end_datetime=None, infohash_v2=None, title_fr=None, description_fr=None, mirror_urls=())
