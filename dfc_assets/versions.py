"""Version keys: validation and release order.

A version key is the same string in file names, Zenodo ``version``, the STAC
``version`` property and the Dagster partition key. It sorts by its own rule,
never by the order in which Dagster learned about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# \A...\Z, not ^...$: `$` also matches before a trailing newline, so "2021\n" would pass a `.match`.
VERSION_KEY_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z")
MAX_VERSION_KEY_LENGTH = 100
_TOKEN = re.compile(r"\d+|[A-Za-z]+")


class InvalidVersionKey(ValueError):
    """A version key that cannot be used as a file name, partition key and Zenodo version."""


def validate_version_key(version: str, *, dataset: str | None = None) -> str:
    """``version`` unchanged when it is a valid key as a whole (no trailing newline, no control character)."""
    where = f" for dataset {dataset!r}" if dataset else ""
    if not isinstance(version, str):
        raise InvalidVersionKey(
            f"invalid version key {version!r}{where}: a version key is text, got {type(version).__name__} "
            "(in YAML, quote it: \"2016.10\", or YAML reads 2016.10 as the number 2016.1)"
        )
    if len(version) > MAX_VERSION_KEY_LENGTH or not VERSION_KEY_PATTERN.fullmatch(version):
        raise InvalidVersionKey(
            f"invalid version key {version!r}{where}: use letters, digits, '.', '_' or '-' "
            f"(for example '2025-06-11' or '2021.1'), starting with a letter or digit, at most {MAX_VERSION_KEY_LENGTH} characters, "
            "with no spaces, newlines or other control characters"
        )
    return version


def version_sort_key(version: str) -> tuple:
    """Natural order: numbers compare as numbers, so '2021' < '2021.1' < '2021.10' < '2022'.

    A key that extends another (a rebuild counter) sorts after it.
    """
    parts: list[tuple[int, int | str]] = []
    for token in _TOKEN.findall(version):
        if token.isdigit():
            parts.append((1, int(token)))
        else:
            parts.append((0, token.lower()))
    return tuple(parts)


def sort_versions(versions: Iterable[str]) -> list[str]:
    return sorted(versions, key=version_sort_key)


def is_newer(candidate: str, current: str | None) -> bool:
    """True when ``candidate`` sorts strictly after ``current`` (or nothing is current)."""
    return current is None or version_sort_key(candidate) > version_sort_key(current)


def version_from_timestamp(release_time: str) -> str:
    """'2025-06-11T08:30' -> '2025-06-11' (the release day is the version key)."""
    day = release_time.strip()[:10]
    return validate_version_key(day)


def next_free_version(release: str, taken: Iterable[str]) -> str:
    """``release`` if unused, else ``release.1``, ``release.2``...: a second release on the same day, or a rebuild."""
    taken = set(taken)
    validate_version_key(release)
    if release not in taken:
        return release
    counter = 1
    while f"{release}.{counter}" in taken:
        counter += 1
    return f"{release}.{counter}"


def release_of(version: str) -> str:
    """The upstream release a version key belongs to: '2022-02-09.2' -> '2022-02-09'; '2021' -> '2021'."""
    head, _, tail = version.rpartition(".")
    return head if head and tail.isdigit() and len(tail) < 4 else version
