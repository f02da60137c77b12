"""Dataset specs: what the registry YAML describes, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union


@dataclass(frozen=True)
class Bilingual:
    en: str
    fr: str | None = None


@dataclass(frozen=True)
class StatcanTableSource:
    product_id: str
    languages: tuple[str, ...] = ("en",)
    kind: Literal["statcan_table"] = "statcan_table"


@dataclass(frozen=True)
class StatcanBoundarySource:
    url: str
    vintage: str | None = None
    layer: str | None = None
    encoding: str | None = None
    kind: Literal["statcan_boundary"] = "statcan_boundary"


SourceSpec = Union[StatcanTableSource, StatcanBoundarySource]


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    id: str
    title: Bilingual
    description: Bilingual
    producer: str
    license: str
    source: SourceSpec
    producer_url: str | None = None
    license_url: str | None = None
    keywords: tuple[str, ...] = ()
    creators: tuple[str, ...] = ("Data for Canada",)
    owners: tuple[str, ...] = field(default=())

    @property
    def partitions_name(self) -> str:
        return f"dfc__{self.key}__versions"

    @property
    def is_geospatial(self) -> bool:
        return self.source.kind == "statcan_boundary"
