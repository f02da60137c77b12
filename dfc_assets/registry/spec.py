"""Dataset specs: what the registry YAML describes, as typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Union

InvalidGeometries = Literal["repair", "reject", "keep"]
RaggedRows = Literal["error", "skip"]
FileFormat = Literal["csv", "geojson", "gpkg", "parquet", "geoparquet"]
VECTOR_FORMATS = ("geojson", "gpkg", "geoparquet")
DEFAULT_FISCAL_YEAR_START_MONTH = 7


@dataclass(frozen=True)
class Bilingual:
    en: str
    fr: str | None = None


@dataclass(frozen=True)
class StatcanTableSource:
    product_id: str
    languages: tuple[str, ...] = ("en",)
    fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH
    ragged_rows: RaggedRows = "error"
    kind: Literal["statcan_table"] = "statcan_table"

    @property
    def is_vector(self) -> bool:
        return False


@dataclass(frozen=True)
class VintageSource:
    """A past release that upstream no longer serves at the current URL (boundaries 2016, 2011, ...)."""

    url: str
    layer: str | None = None
    encoding: str | None = None


class _ByUrl:
    """A source read from one URL, with per-version URLs for vintages upstream has moved elsewhere."""

    url: str
    layer: str | None
    encoding: str | None
    versions: Mapping[str, VintageSource]

    def for_version(self, version: str) -> tuple[str | None, str | None, str | None]:
        """(url, layer, encoding) of a per-version source, or (None, layer, encoding) for the current URL."""
        past = self.versions.get(version)
        if past is None:
            return None, self.layer, self.encoding
        return past.url, past.layer or self.layer, past.encoding or self.encoding

    def url_for_version(self, version: str) -> str:
        return self.for_version(version)[0] or self.url


@dataclass(frozen=True)
class VectorOptions:
    """How vector data is cleaned (passed to ``transform.vector.vector_zip_to_geoparquet``)."""

    invalid_geometries: InvalidGeometries = "repair"
    normalise_names: bool = True
    promote_to_multi: bool = False


@dataclass(frozen=True)
class StatcanBoundarySource(_ByUrl):
    url: str
    vintage: str | None = None
    layer: str | None = None
    encoding: str | None = None
    versions: Mapping[str, VintageSource] = field(default_factory=dict)
    vector: VectorOptions = VectorOptions()
    kind: Literal["statcan_boundary"] = "statcan_boundary"

    @property
    def is_vector(self) -> bool:
        return True


@dataclass(frozen=True)
class HttpFileSource(_ByUrl):
    """One CSV, GeoJSON, GeoPackage, Parquet or GeoParquet file by URL."""

    url: str
    format: FileFormat
    layer: str | None = None
    encoding: str | None = None
    versions: Mapping[str, VintageSource] = field(default_factory=dict)
    vector: VectorOptions = VectorOptions()
    ragged_rows: RaggedRows = "error"
    kind: Literal["http_file"] = "http_file"

    @property
    def is_vector(self) -> bool:
        return self.format in VECTOR_FORMATS


@dataclass(frozen=True)
class CensusProfileSource(_ByUrl):
    """A Census of Population profile CSV zip (latin-1, repeated SYMBOL columns) by URL."""

    url: str
    encoding: str | None = None
    members: tuple[str, ...] = ()
    versions: Mapping[str, VintageSource] = field(default_factory=dict)
    ragged_rows: RaggedRows = "error"
    layer: None = None
    kind: Literal["census_profile"] = "census_profile"

    @property
    def is_vector(self) -> bool:
        return False


PrebuiltFormat = Literal["pmtiles", "geoparquet", "parquet", "flatgeobuf", "cog"]


@dataclass(frozen=True)
class PrebuiltSource(_ByUrl):
    """A file another pipeline made (PMTiles, GeoParquet, Parquet, FlatGeobuf, COG), published as it is."""

    url: str
    format: PrebuiltFormat
    versions: Mapping[str, VintageSource] = field(default_factory=dict)
    layer: None = None
    encoding: None = None
    kind: Literal["prebuilt"] = "prebuilt"

    @property
    def is_vector(self) -> bool:
        return self.format != "parquet"


SourceSpec = Union[StatcanTableSource, StatcanBoundarySource, HttpFileSource, CensusProfileSource, PrebuiltSource]
URL_SOURCES = (StatcanBoundarySource, HttpFileSource, CensusProfileSource, PrebuiltSource)


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
    keywords_fr: tuple[str, ...] = ()
    creators: tuple[str, ...] = ("Data for Canada",)
    owners: tuple[str, ...] = field(default=())
    # Versions at which a breaking schema change (a column removed, renamed or retyped) was reviewed and accepted.
    accepted_schema_changes: tuple[str, ...] = ()
    # Days between two versions (upstream changes inside the window coalesce); None: the source kind's default
    # (sources.cadence.version_interval_days).
    min_version_interval: int | None = None
    # The collection this dataset was expanded from (None for an individual registry entry).
    collection: str | None = None

    @property
    def is_geospatial(self) -> bool:
        return self.source.is_vector
