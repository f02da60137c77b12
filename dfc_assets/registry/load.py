"""Load and validate the dataset registry YAML.

Every error names the file, the dataset and the field, and says what is expected.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from dfc_assets.registry.spec import (
    VECTOR_FORMATS,
    Bilingual,
    CensusProfileSource,
    DatasetSpec,
    HttpFileSource,
    SourceSpec,
    StatcanBoundarySource,
    StatcanTableSource,
    VectorOptions,
    VintageSource,
)
from dfc_assets.versions import InvalidVersionKey, validate_version_key

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
ID_PATTERN = re.compile(r"^[a-z0-9][A-Za-z0-9._-]*$")
PRODUCT_ID_PATTERN = re.compile(r"^\d{8}$")
DATASET_FIELDS = {
    "key", "id", "title", "description", "producer", "producer_url", "license",
    "license_url", "keywords", "keywords_fr", "creators", "owners", "source", "accepted_schema_changes",
}
VECTOR_OPTION_FIELDS = {"invalid_geometries", "normalise_names", "promote_to_multi"}
SOURCE_FIELDS = {
    "statcan_table": {"kind", "product_id", "languages", "fiscal_year_start_month", "ragged_rows"},
    "statcan_boundary": {"kind", "url", "vintage", "layer", "encoding", "versions", *VECTOR_OPTION_FIELDS},
    "http_file": {"kind", "url", "format", "layer", "encoding", "versions", "ragged_rows", *VECTOR_OPTION_FIELDS},
    "census_profile": {"kind", "url", "encoding", "members", "versions", "ragged_rows"},
}
# File name endings -> http_file format, when `format` is not given.
FORMAT_SUFFIXES = {
    ".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".geoparquet": "geoparquet", ".parquet": "parquet",
}
FILE_FORMATS = ("csv", "geojson", "gpkg", "parquet", "geoparquet")
REGISTRY_ENV = "DFC_REGISTRY"


class RegistryError(ValueError):
    """The registry file is not valid; the message says where and why."""


def packaged_registry_path() -> Path:
    return Path(str(resources.files("dfc_assets.registry") / "datasets.yaml"))


def default_registry_path() -> Path:
    """``DFC_REGISTRY`` (a registry YAML of one's own) when set, else the registry shipped in the package."""
    override = os.environ.get(REGISTRY_ENV)
    return Path(override) if override else packaged_registry_path()


def load_registry(path: Path | None = None) -> tuple[DatasetSpec, ...]:
    path = path or default_registry_path()
    if not path.is_file():
        raise RegistryError(f"{path}: registry file not found" + (f" (set by {REGISTRY_ENV})" if os.environ.get(REGISTRY_ENV) == str(path) else ""))
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("datasets"), list):
        raise RegistryError(f"{path}: expected a mapping with a 'datasets' list at the top level")
    specs = [_dataset(path, index, entry) for index, entry in enumerate(document["datasets"])]
    _check_unique(path, specs, "key")
    _check_unique(path, specs, "id")
    return tuple(specs)


def _check_unique(path: Path, specs: list[DatasetSpec], attribute: str) -> None:
    seen: set[str] = set()
    for spec in specs:
        value = getattr(spec, attribute)
        if value in seen:
            raise RegistryError(f"{path}: dataset {spec.key!r}: field '{attribute}': {value!r} is used by another dataset")
        seen.add(value)


class _Fields:
    def __init__(self, path: Path, dataset: str, entry: Mapping[str, Any], prefix: str = "") -> None:
        self.path, self.dataset, self.entry, self.prefix = path, dataset, entry, prefix

    def error(self, name: str, problem: str) -> RegistryError:
        return RegistryError(f"{self.path}: dataset {self.dataset!r}: field '{self.prefix}{name}': {problem}")

    def string(self, name: str, *, required: bool = True, pattern: re.Pattern[str] | None = None) -> str | None:
        value = self.entry.get(name)
        if value is None:
            if required:
                raise self.error(name, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"expected a non-empty string, got {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.error(name, f"{value!r} does not match {pattern.pattern}")
        return value

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.entry.get(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(name, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def bilingual(self, name: str) -> Bilingual:
        value = self.entry.get(name)
        if not isinstance(value, Mapping):
            raise self.error(name, "expected a mapping with 'en' (required) and 'fr'")
        unknown = set(value) - {"en", "fr"}
        if unknown:
            raise self.error(name, f"unknown languages {sorted(unknown)}; use 'en' and 'fr'")
        inner = _Fields(self.path, self.dataset, value, f"{self.prefix}{name}.")
        return Bilingual(en=inner.string("en"), fr=inner.string("fr", required=False))

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.entry.get(name, default)
        if value not in choices:
            raise self.error(name, f"expected one of {list(choices)}, got {value!r}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.entry.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {value!r}")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.entry.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(name, f"expected a whole number from {low} to {high}, got {value!r}")
        return value

    def encoding(self, name: str = "encoding") -> str | None:
        value = self.string(name, required=False)
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise self.error(name, f"unknown text encoding {value!r} (e.g. 'utf-8', 'latin-1', 'cp1252')") from None
        return value

    def reject_unknown(self, allowed: set[str]) -> None:
        unknown = set(self.entry) - allowed
        if unknown:
            name = sorted(unknown)[0]
            raise self.error(name, f"unknown field; allowed fields are {sorted(allowed)}")


def _dataset(path: Path, index: int, entry: Any) -> DatasetSpec:
    if not isinstance(entry, Mapping):
        raise RegistryError(f"{path}: datasets[{index}]: expected a mapping, got {type(entry).__name__}")
    label = entry.get("key") if isinstance(entry.get("key"), str) else f"datasets[{index}]"
    fields = _Fields(path, label, entry)
    fields.reject_unknown(DATASET_FIELDS)
    return DatasetSpec(
        key=fields.string("key", pattern=KEY_PATTERN),
        id=fields.string("id", pattern=ID_PATTERN),
        title=fields.bilingual("title"),
        description=fields.bilingual("description"),
        producer=fields.string("producer"),
        producer_url=fields.string("producer_url", required=False),
        license=fields.string("license"),
        license_url=fields.string("license_url", required=False),
        keywords=fields.strings("keywords"),
        keywords_fr=fields.strings("keywords_fr"),
        creators=fields.strings("creators", default=("Data for Canada",)),
        owners=fields.strings("owners"),
        source=_source(path, label, entry.get("source")),
        accepted_schema_changes=_version_keys(fields, "accepted_schema_changes"),
    )


def _version_keys(fields: _Fields, name: str) -> tuple[str, ...]:
    versions = fields.strings(name)
    for version in versions:
        try:
            validate_version_key(version)
        except InvalidVersionKey as error:
            raise fields.error(name, str(error)) from None
    return versions


def _source(path: Path, dataset: str, entry: Any) -> SourceSpec:
    if not isinstance(entry, Mapping):
        raise RegistryError(f"{path}: dataset {dataset!r}: field 'source': expected a mapping with a 'kind'")
    fields = _Fields(path, dataset, entry, "source.")
    kind = fields.string("kind")
    if kind not in SOURCE_FIELDS:
        raise fields.error("kind", f"unknown source kind {kind!r}; expected one of {sorted(SOURCE_FIELDS)}")
    fields.reject_unknown(SOURCE_FIELDS[kind])
    if kind == "statcan_table":
        languages = fields.strings("languages", default=("en",))
        if not languages or set(languages) - {"en", "fr"}:
            raise fields.error("languages", f"expected a non-empty subset of ['en', 'fr'], got {list(languages)}")
        return StatcanTableSource(
            product_id=fields.string("product_id", pattern=PRODUCT_ID_PATTERN),
            languages=languages,
            fiscal_year_start_month=fields.integer("fiscal_year_start_month", 7, 1, 12),
            ragged_rows=fields.choice("ragged_rows", ("error", "skip"), "error"),
        )
    url = fields.string("url")
    versions = _vintages(path, dataset, entry.get("versions"))
    if kind == "statcan_boundary":
        vintage = entry.get("vintage")
        if vintage is not None and not isinstance(vintage, str):
            raise fields.error("vintage", f"expected a quoted string such as \"2021\", got {vintage!r}")
        return StatcanBoundarySource(
            url=url, vintage=vintage, layer=fields.string("layer", required=False), encoding=fields.encoding(),
            versions=versions, vector=_vector_options(fields),
        )
    if kind == "census_profile":
        return CensusProfileSource(
            url=url, encoding=fields.encoding(), members=fields.strings("members"), versions=versions,
            ragged_rows=fields.choice("ragged_rows", ("error", "skip"), "error"),
        )
    file_format = _file_format(fields, url)
    if file_format not in VECTOR_FORMATS and (given := sorted(VECTOR_OPTION_FIELDS & set(entry))):
        raise fields.error(given[0], f"applies to vector formats {list(VECTOR_FORMATS)} only; this file's format is {file_format!r}")
    if file_format != "csv" and "ragged_rows" in entry:
        raise fields.error("ragged_rows", f"applies to format 'csv' only; this file's format is {file_format!r}")
    if file_format in ("parquet", "geoparquet") and "encoding" in entry:
        raise fields.error("encoding", "does not apply to Parquet (its text is always UTF-8)")
    return HttpFileSource(
        url=url, format=file_format, layer=fields.string("layer", required=False), encoding=fields.encoding(),
        versions=versions, vector=_vector_options(fields), ragged_rows=fields.choice("ragged_rows", ("error", "skip"), "error"),
    )


def _vector_options(fields: _Fields) -> VectorOptions:
    return VectorOptions(
        invalid_geometries=fields.choice("invalid_geometries", ("repair", "reject", "keep"), "repair"),
        normalise_names=fields.boolean("normalise_names", True),
        promote_to_multi=fields.boolean("promote_to_multi", False),
    )


def _file_format(fields: _Fields, url: str) -> str:
    given = fields.entry.get("format")
    if given is not None:
        return fields.choice("format", FILE_FORMATS, "csv")
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    for suffix, file_format in FORMAT_SUFFIXES.items():
        if name.endswith(suffix):
            return file_format
    raise fields.error("format", f"is required: the format cannot be told from the file name {name!r}; expected one of {list(FILE_FORMATS)}")


def _vintages(path: Path, dataset: str, entry: Any) -> dict[str, VintageSource]:
    if entry is None:
        return {}
    if not isinstance(entry, Mapping):
        raise RegistryError(f"{path}: dataset {dataset!r}: field 'source.versions': expected a mapping of version key -> {{url, layer, encoding}}")
    vintages = {}
    for version, spec in entry.items():
        prefix = f"source.versions.{version}."
        try:
            validate_version_key(str(version))
        except InvalidVersionKey as error:
            raise RegistryError(f"{path}: dataset {dataset!r}: field 'source.versions': {error}") from None
        if not isinstance(spec, Mapping):
            raise RegistryError(f"{path}: dataset {dataset!r}: field '{prefix[:-1]}': expected a mapping with 'url'")
        fields = _Fields(path, dataset, spec, prefix)
        fields.reject_unknown({"url", "layer", "encoding"})
        vintages[str(version)] = VintageSource(
            url=fields.string("url"), layer=fields.string("layer", required=False), encoding=fields.encoding()
        )
    return vintages
