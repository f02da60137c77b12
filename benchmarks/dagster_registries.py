"""Registries of N datasets for the Dagster benchmarks: N individual statcan_table entries, or one collection.

Product ids spread over StatCan's subjects (``partitions.STATCAN_SUBJECTS``) as the real catalogue does,
so a large registry fills every StatCan shard.
"""

from __future__ import annotations

from pathlib import Path

from dfc_assets.partitions import STATCAN_SUBJECTS

ENTRY = """  - key: statcan_table_{pid}
    id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{pid}
    title: {{en: "Synthetic table {pid}", fr: "Tableau synthétique {pid}"}}
    description: {{en: "Statistics Canada table {pid}.", fr: "Tableau {pid} de Statistique Canada."}}
    producer: Statistics Canada
    license: OGL-Canada-2.0
    keywords: [statistics canada, wds table]
    source: {{kind: statcan_table, product_id: "{pid}"}}
"""
COLLECTION = """collections:
  - key: statcan_tables
    kind: statcan_tables
    producer: Statistics Canada
    license: OGL-Canada-2.0
    filters: {include_archived: true}
"""


def product_ids(count: int) -> list[str]:
    return [f"{STATCAN_SUBJECTS[i % len(STATCAN_SUBJECTS)]}10{i // len(STATCAN_SUBJECTS):04d}" for i in range(count)]


def individual_registry(path: Path, count: int) -> Path:
    path.write_text("datasets:\n" + "".join(ENTRY.format(pid=pid) for pid in product_ids(count)), encoding="utf-8")
    return path


def collection_registry(path: Path) -> Path:
    path.write_text(COLLECTION, encoding="utf-8")
    return path
