"""Load and validate the dataset registry YAML.

Every error names the file, the dataset and the field, and says what is expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dfc_assets.registry.spec import (
    Bilingual,
    DatasetSpec,
    SourceSpec,
    StatcanBoundarySource,
    StatcanTableSource,
    VintageSource,
)
from dfc_assets.versions import InvalidVersionKey, validate_version_key

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
ID_PATTERN = re.compile(r"^[a-z0-9][A-Za-z0-9._-]*$")
PRODUCT_ID_PATTERN = re.compile(r"^\d{8}$")
DATASET_FIELDS = {
    "key", "id", "title", "description", "producer", "producer_url", "license",
    "license_url", "keywords", "creators", "owners", "source",
}
SOURCE_FIELDS = {
    "statcan_table": {"kind", "product_id", "languages"},
    "statcan_boundary": {"kind", "url", "vintage", "layer", "encoding", "versions"},
}


class RegistryError(ValueError):
    """The registry file is not valid; the message says where and why."""


def default_registry_path() -> Path:
    return Path(str(resources.files("dfc_assets.registry") / "datasets.yaml"))


def load_registry(path: Path | None = None) -> tuple[DatasetSpec, ...]:
    path = path or default_registry_path()
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
        creators=fields.strings("creators", default=("Data for Canada",)),
        owners=fields.strings("owners"),
        source=_source(path, label, entry.get("source")),
    )


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
        return StatcanTableSource(product_id=fields.string("product_id", pattern=PRODUCT_ID_PATTERN), languages=languages)
    vintage = entry.get("vintage")
    if vintage is not None and not isinstance(vintage, str):
        raise fields.error("vintage", f"expected a quoted string such as \"2021\", got {vintage!r}")
    return StatcanBoundarySource(
        url=fields.string("url"),
        vintage=vintage,
        layer=fields.string("layer", required=False),
        encoding=fields.string("encoding", required=False),
        versions=_vintages(path, dataset, entry.get("versions")),
    )


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
            url=fields.string("url"), layer=fields.string("layer", required=False), encoding=fields.string("encoding", required=False)
        )
    return vintages
