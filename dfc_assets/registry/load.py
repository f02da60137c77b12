"""Load and validate the dataset registry YAML: individual dataset entries and collections.

Every error names the file, the dataset and the field, and says what is expected. The YAML is
read strictly (``strict_yaml``: duplicate keys and unquoted numeric keys refused, with the line).
Each source kind parses its own ``source`` mapping (``dfc_assets.sources.kinds``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from dfc_assets.registry.collection import Collection, StatcanTablesCollection
from dfc_assets.registry.cube_list import CubeListSnapshot
from dfc_assets.registry.fields import EntryFields, RegistryError, is_mapping
from dfc_assets.registry.identifiers import ID_PATTERN, KEY_PATTERN, PRODUCT_ID_PATTERN
from dfc_assets.registry.parsed_cache import keep_parsed, read_parsed
from dfc_assets.registry.spec import DatasetSpec, StatcanTableSource
from dfc_assets.registry.strict_yaml import StrictYamlError, load_strict_yaml

DATASET_FIELDS = frozenset({
    "key", "id", "title", "description", "producer", "producer_url", "license",
    "license_url", "keywords", "keywords_fr", "creators", "owners", "source", "accepted_schema_changes", "min_version_interval",
})
COLLECTION_FIELDS = frozenset({
    "key", "kind", "producer", "producer_url", "license", "license_url", "keywords", "keywords_fr", "creators", "owners",
    "languages", "min_version_interval", "filters",
})
STATCAN_TABLES_FILTERS = frozenset({"product_ids", "subject_codes", "survey_codes", "frequencies", "include_archived"})
TOP_LEVEL_FIELDS = frozenset({"datasets", "collections"})
MAX_VERSION_INTERVAL_DAYS = 3660
REGISTRY_ENV = "DFC_REGISTRY"


@dataclass(frozen=True)
class Registry:
    """A registry file: its individual dataset entries and its collections.

    Iterating a Registry yields its individual entries (what ``load_registry`` returned before
    collections); the datasets a collection stands for come from ``datasets(snapshot)`` or, with
    the snapshot read from the store, ``registry.registered_datasets(store)``.
    """

    path: Path
    entries: tuple[DatasetSpec, ...]
    collections: tuple[Collection, ...] = ()

    def __iter__(self) -> Iterator[DatasetSpec]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, key: str) -> DatasetSpec | None:
        return self._entries_by_key.get(key)

    @property
    def _entries_by_key(self) -> dict[str, DatasetSpec]:
        cached = self.__dict__.get("_by_key")
        if cached is None:
            cached = {spec.key: spec for spec in self.entries}
            object.__setattr__(self, "_by_key", cached)
        return cached

    @property
    def _claimed(self) -> tuple[set[str], set[str], set[str]]:
        cached = self.__dict__.get("_claimed_by_entries")
        if cached is None:
            cached = ({spec.key for spec in self.entries}, {spec.id for spec in self.entries},
                      {spec.source.product_id for spec in self.entries if isinstance(spec.source, StatcanTableSource)})
            object.__setattr__(self, "_claimed_by_entries", cached)
        return cached

    def member(self, key: str, snapshot: CubeListSnapshot | None) -> DatasetSpec | None:
        """The collection member with this key, without expanding every collection (what a step's process needs)."""
        if snapshot is None or not key.startswith("statcan_table_"):
            return None
        cube = snapshot.by_product_id.get(key.removeprefix("statcan_table_"))
        if cube is None:
            return None
        taken_keys, taken_ids, taken_tables = self._claimed
        for collection in self.collections:
            if collection.matches(cube):
                member = collection.member(cube, snapshot)
                if member.key != key or member.key in taken_keys or member.id in taken_ids or member.source.product_id in taken_tables:  # type: ignore[union-attr]
                    return None
                return member
        return None

    def datasets(self, snapshot: CubeListSnapshot | None) -> tuple[DatasetSpec, ...]:
        """Individual entries, then the members of every collection (none without a snapshot).

        An individual entry wins over a member with the same key, id or product id; a table in two
        collections belongs to the first.
        """
        if not self.collections or snapshot is None:
            return self.entries
        taken_keys, taken_ids, taken_tables = (set(claimed) for claimed in self._claimed)
        members: list[DatasetSpec] = []
        for collection in self.collections:
            for member in collection.expand(snapshot):
                product_id = member.source.product_id  # type: ignore[union-attr]
                if member.key in taken_keys or member.id in taken_ids or product_id in taken_tables:
                    continue
                taken_keys.add(member.key)
                taken_ids.add(member.id)
                taken_tables.add(product_id)
                members.append(member)
        return self.entries + tuple(members)


def packaged_registry_path() -> Path:
    return Path(str(resources.files("dfc_assets.registry") / "datasets.yaml"))


def default_registry_path() -> Path:
    """``DFC_REGISTRY`` (a registry YAML of one's own) when set, else the registry shipped in the package."""
    override = os.environ.get(REGISTRY_ENV)
    return Path(override) if override else packaged_registry_path()


def load_registry(path: Path | None = None) -> Registry:
    path = Path(path) if path else default_registry_path()
    if not path.is_file():
        raise RegistryError(f"{path}: registry file not found" + (f" (set by {REGISTRY_ENV})" if os.environ.get(REGISTRY_ENV) == str(path) else ""))
    data = path.read_bytes()
    if (parsed := read_parsed(data)) is not None:
        return replace(parsed, path=path)
    registry = _parse(path, data)
    keep_parsed(data, registry)
    return registry


def _parse(path: Path, data: bytes) -> Registry:
    try:
        document = load_strict_yaml(data.decode("utf-8"), path)
    except UnicodeDecodeError as error:
        raise RegistryError(f"{path}: not UTF-8 text ({error})") from None
    except StrictYamlError as error:
        raise RegistryError(str(error)) from None
    if not isinstance(document, Mapping) or not (isinstance(document.get("datasets"), list) or isinstance(document.get("collections"), list)):
        raise RegistryError(f"{path}: expected a mapping with a 'datasets' list and/or a 'collections' list at the top level")
    if unknown := sorted(set(document) - TOP_LEVEL_FIELDS):
        raise RegistryError(f"{path}: unknown top-level field {unknown[0]!r}; allowed are {sorted(TOP_LEVEL_FIELDS)}")
    for name in TOP_LEVEL_FIELDS:
        if document.get(name) is not None and not isinstance(document[name], list):
            raise RegistryError(f"{path}: '{name}' must be a list")
    from dfc_assets.sources.kinds import source_kind_named  # the kinds import the registry's types

    specs = [_dataset(path, index, entry, source_kind_named) for index, entry in enumerate(document.get("datasets") or ())]
    _check_unique(path, specs, "key")
    _check_unique(path, specs, "id")
    collections = [_collection(path, index, entry) for index, entry in enumerate(document.get("collections") or ())]
    seen = {spec.key for spec in specs}
    for collection in collections:
        if collection.key in seen:
            raise RegistryError(f"{path}: collection {collection.key!r}: field 'key': {collection.key!r} is used by another dataset or collection")
        seen.add(collection.key)
    return Registry(path=path, entries=tuple(specs), collections=tuple(collections))


def _check_unique(path: Path, specs: list[DatasetSpec], attribute: str) -> None:
    seen: set[str] = set()
    for spec in specs:
        value = getattr(spec, attribute)
        if value in seen:
            raise RegistryError(f"{path}: dataset {spec.key!r}: field '{attribute}': {value!r} is used by another dataset")
        seen.add(value)


def _dataset(path: Path, index: int, entry: Any, source_kind_named) -> DatasetSpec:
    if not is_mapping(entry):
        raise RegistryError(f"{path}: datasets[{index}]: expected a mapping, got {type(entry).__name__}")
    label = entry.get("key") if isinstance(entry.get("key"), str) else f"datasets[{index}]"
    fields = EntryFields(path, label, entry)
    fields.reject_unknown(DATASET_FIELDS)
    source = entry.get("source")
    if not is_mapping(source):
        raise fields.error("source", "expected a mapping with a 'kind'")
    source_fields = fields.inner("source", source)
    kind_name = source_fields.string("kind")
    kind = source_kind_named(kind_name)
    if kind is None:
        from dfc_assets.sources.kinds import KINDS

        raise source_fields.error("kind", f"unknown source kind {kind_name!r}; expected one of {sorted(KINDS)}")
    source_fields.reject_unknown(kind.SOURCE_FIELDS)
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
        source=kind.parse_source(source_fields),
        accepted_schema_changes=fields.version_keys("accepted_schema_changes"),
        min_version_interval=fields.integer("min_version_interval", kind.DEFAULT_VERSION_INTERVAL_DAYS, 0, MAX_VERSION_INTERVAL_DAYS),
    )


def _collection(path: Path, index: int, entry: Any) -> Collection:
    if not isinstance(entry, Mapping):
        raise RegistryError(f"{path}: collections[{index}]: expected a mapping, got {type(entry).__name__}")
    label = entry.get("key") if isinstance(entry.get("key"), str) else f"collections[{index}]"
    fields = EntryFields(path, label, entry, noun="collection")
    fields.reject_unknown(COLLECTION_FIELDS)
    kind = fields.string("kind")
    if kind != "statcan_tables":
        raise fields.error("kind", f"unknown collection kind {kind!r}; expected one of ['statcan_tables']")
    filters = entry.get("filters") or {}
    if not isinstance(filters, Mapping):
        raise fields.error("filters", f"expected a mapping with any of {sorted(STATCAN_TABLES_FILTERS)}")
    filter_fields = fields.inner("filters", filters)
    filter_fields.reject_unknown(STATCAN_TABLES_FILTERS)
    frequencies = filters.get("frequencies") or []
    if not isinstance(frequencies, list) or not all(isinstance(f, int) and not isinstance(f, bool) for f in frequencies):
        raise filter_fields.error("frequencies", f"expected a list of WDS frequency codes (whole numbers, e.g. [1, 6, 12]), got {frequencies!r}")
    languages = fields.strings("languages", default=("en",))
    if not languages or set(languages) - {"en", "fr"}:
        raise fields.error("languages", f"expected a non-empty subset of ['en', 'fr'], got {list(languages)}")
    from dfc_assets.sources.kinds import statcan_table

    return StatcanTablesCollection(
        key=fields.string("key", pattern=KEY_PATTERN),
        producer=fields.string("producer"),
        license=fields.string("license"),
        producer_url=fields.string("producer_url", required=False),
        license_url=fields.string("license_url", required=False),
        creators=fields.strings("creators", default=("Data for Canada",)),
        owners=fields.strings("owners"),
        keywords=fields.strings("keywords"),
        keywords_fr=fields.strings("keywords_fr"),
        product_ids=frozenset(filter_fields.strings("product_ids", pattern=PRODUCT_ID_PATTERN)),
        subject_codes=frozenset(filter_fields.strings("subject_codes", pattern=re.compile(r"\A\d{1,8}\Z"))),
        survey_codes=frozenset(filter_fields.strings("survey_codes", pattern=re.compile(r"\A\d{1,8}\Z"))),
        frequencies=frozenset(frequencies),
        include_archived=filter_fields.boolean("include_archived", False),
        min_version_interval=fields.integer("min_version_interval", statcan_table.DEFAULT_VERSION_INTERVAL_DAYS, 0, MAX_VERSION_INTERVAL_DAYS),
        languages=languages,
    )
