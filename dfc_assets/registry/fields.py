"""Typed reads of one registry mapping; every error names the file, the dataset and the field."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dfc_assets.registry.spec import Bilingual
from dfc_assets.versions import InvalidVersionKey, validate_version_key


class RegistryError(ValueError):
    """The registry file is not valid; the message says where and why."""


_LANGUAGES = frozenset({"en", "fr"})


def is_mapping(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


class EntryFields:
    __slots__ = ("path", "dataset", "entry", "prefix", "noun")

    def __init__(self, path: Path, dataset: str, entry: Mapping[str, Any], prefix: str = "", noun: str = "dataset") -> None:
        self.path = path
        self.dataset = dataset
        self.entry = entry
        self.prefix = prefix
        self.noun = noun

    def error(self, name: str, problem: str) -> RegistryError:
        return RegistryError(f"{self.path}: {self.noun} {self.dataset!r}: field '{self.prefix}{name}': {problem}")

    def inner(self, name: str, value: Mapping[str, Any]) -> "EntryFields":
        return EntryFields(self.path, self.dataset, value, f"{self.prefix}{name}.", self.noun)

    def string(self, name: str, *, required: bool = True, pattern: re.Pattern[str] | None = None) -> str | None:
        value = self.entry.get(name)
        if value is None:
            if required:
                raise self.error(name, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"expected a non-empty string, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.error(name, f"{value!r} does not match {pattern.pattern} (the whole value, with no trailing newline)")
        return value

    def strings(self, name: str, default: tuple[str, ...] = (), *, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        value = self.entry.get(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(name, f"expected a list of strings, got {value!r}")
        if pattern is not None and (bad := [v for v in value if not pattern.fullmatch(v)]):
            raise self.error(name, f"{bad[0]!r} does not match {pattern.pattern}")
        return tuple(value)

    def bilingual(self, name: str) -> Bilingual:
        value = self.entry.get(name)
        if not is_mapping(value):
            raise self.error(name, "expected a mapping with 'en' (required) and 'fr'")
        if unknown := value.keys() - _LANGUAGES:
            raise self.error(name, f"unknown languages {sorted(unknown)}; use 'en' and 'fr'")
        inner = self.inner(name, value)
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

    def integer(self, name: str, default: int | None, low: int, high: int) -> int | None:
        value = self.entry.get(name, default)
        if value is None and default is None:
            return None
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

    def version_keys(self, name: str) -> tuple[str, ...]:
        value = self.entry.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(name, f"expected a list of version keys, got {value!r}")
        for version in value:
            try:
                validate_version_key(version, dataset=self.dataset)
            except InvalidVersionKey as error:
                raise self.error(name, str(error)) from None
        return tuple(value)

    def reject_unknown(self, allowed: set[str] | frozenset[str]) -> None:
        if unknown := self.entry.keys() - allowed:
            name = sorted(unknown)[0]
            raise self.error(name, f"unknown field; allowed fields are {sorted(allowed)}")
