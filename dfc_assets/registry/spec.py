"""Dataset specs: what the registry YAML describes, as typed values."""

from __future__ import annotations

from collections.abc import Mapping
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
class VintageSource:
    """A past release that upstream no longer serves at the current URL (boundaries 2016, 2011, ...)."""

    url: str
    layer: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class StatcanBoundarySource:
    url: str
    vintage: str | None = None
    layer: str | None = None
    encoding: str | None = None
    versions: Mapping[str, VintageSource] = field(default_factory=dict)
    kind: Literal["statcan_boundary"] = "statcan_boundary"

    def for_version(self, version: str) -> tuple[str | None, str | None, str | None]:
        """(url, layer, encoding) of a per-version source, or (None, layer, encoding) for the current URL."""
        past = self.versions.get(version)
        if past is None:
            return None, self.layer, self.encoding
        return past.url, past.layer or self.layer, past.encoding or self.encoding


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
