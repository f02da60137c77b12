"""Collections: one registry entry standing for many datasets of one source kind.

The first kind, ``statcan_tables``, is every current StatCan WDS table (``getAllCubesListLite``)
matching its filters, each table its own dataset, expanded from the cube-list snapshot
(``registry.cube_list``) so that loading a registry never asks StatCan anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dfc_assets.registry.cube_list import CubeListSnapshot
from dfc_assets.registry.spec import Bilingual, DatasetSpec, StatcanTableSource

STATCAN_TABLE_KEY = "statcan_table_{pid}"
STATCAN_TABLE_ID = "ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{pid}"
EASTERN = ZoneInfo("America/Toronto")


def statcan_table_key(product_id: str) -> str:
    return STATCAN_TABLE_KEY.format(pid=product_id)


def statcan_table_id(product_id: str) -> str:
    return STATCAN_TABLE_ID.format(pid=product_id)


def format_table_number(product_id: str) -> str:
    """'33100036' -> '33-10-0036-01' (StatCan's table number as people cite it)."""
    return f"{product_id[:2]}-{product_id[2:4]}-{product_id[4:8]}-01"


@dataclass(frozen=True)
class StatcanTablesCollection:
    """Every current WDS cube matching the filters (an empty filter matches everything)."""

    key: str
    producer: str
    license: str
    producer_url: str | None = None
    license_url: str | None = None
    creators: tuple[str, ...] = ("Statistics Canada", "Data for Canada")
    owners: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    product_ids: frozenset[str] = frozenset()
    subject_codes: frozenset[str] = frozenset()   # a cube matches when any of its subject codes starts with one of these
    survey_codes: frozenset[str] = frozenset()
    frequencies: frozenset[int] = frozenset()      # WDS frequencyCode (1 daily, 6 monthly, 9 quarterly, 12 annual, ...)
    include_archived: bool = False
    min_version_interval: int | None = None
    languages: tuple[str, ...] = ("en",)
    kind: str = "statcan_tables"

    def matches(self, cube: dict) -> bool:
        if not self.include_archived and str(cube.get("archived", "2")) == "1":
            return False
        product_id = str(cube.get("productId", ""))
        if self.product_ids and product_id not in self.product_ids:
            return False
        if self.subject_codes and not any(str(code).startswith(prefix) for code in cube.get("subjectCode") or () for prefix in self.subject_codes):
            return False
        if self.survey_codes and not self.survey_codes & {str(code) for code in cube.get("surveyCode") or ()}:
            return False
        return not self.frequencies or cube.get("frequencyCode") in self.frequencies

    def expand(self, snapshot: CubeListSnapshot) -> list[DatasetSpec]:
        return [self.member(cube, snapshot) for cube in snapshot.cubes if self.matches(cube)]

    def member(self, cube: dict, snapshot: CubeListSnapshot) -> DatasetSpec:
        product_id = str(cube["productId"])
        title_en = cube.get("cubeTitleEn") or f"Statistics Canada table {format_table_number(product_id)}"
        title_fr = cube.get("cubeTitleFr") or None
        number = format_table_number(product_id)
        subjects = [snapshot.subject_name(code) for code in cube.get("subjectCode") or ()]
        keywords = tuple(dict.fromkeys([*self.keywords, *(name for name in subjects if name)]))
        return DatasetSpec(
            key=statcan_table_key(product_id),
            id=statcan_table_id(product_id),
            title=Bilingual(en=title_en, fr=title_fr),
            description=Bilingual(
                en=f"Statistics Canada table {number}, the full table as analysis-ready Parquet: every series and "
                   "reference date, values typed, identifiers (COORDINATE, DGUID, VECTOR) kept as text.",
                fr=f"Tableau {number} de Statistique Canada, le tableau complet en Parquet prêt à l'analyse : toutes "
                   "les séries et dates de référence, valeurs typées, identifiants (COORDINATE, DGUID, VECTOR) conservés en texte.",
            ),
            producer=self.producer, producer_url=self.producer_url, license=self.license, license_url=self.license_url,
            keywords=keywords, creators=self.creators, owners=self.owners,
            source=StatcanTableSource(product_id=product_id, languages=self.languages),
            min_version_interval=self.min_version_interval, collection=self.key,
        )


def snapshot_release_time(cube: dict) -> datetime | None:
    """A cube's releaseTime from getAllCubesListLite (UTC, '2020-11-02T13:30:00Z'), as an aware datetime."""
    text = cube.get("releaseTime")
    if not text:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=EASTERN)


Collection = StatcanTablesCollection
