"""Column-name rules shared by the transforms.

Duplicate headers (``unique_column_names``), the rule D4C follows for WDS tables:

1. The first exact occurrence of each *reserved* name (the standard WDS columns such as
   ``VALUE`` and ``STATUS``) keeps its name, wherever it stands in the header.
2. Every other header that equals, ignoring case, a name already kept gets the suffix
   ``.N`` with the smallest N >= 1 that makes it unique ignoring case, in header order.
   So ``Value`` beside ``VALUE`` becomes ``Value.1`` (tables 10100164, 23100049),
   ``Status`` becomes ``Status.1`` (13100902), and the census profile's six ``SYMBOL``
   columns become ``SYMBOL``, ``SYMBOL.1`` .. ``SYMBOL.5`` (as pandas names them).
3. An empty header becomes ``column_{position}`` (1-based).

Names are compared ignoring case because DuckDB, PostgreSQL and most users do.

Attribute names of vector data (``normalised_attribute_names``):
NFC, lower case, every run of characters other than ``a-z 0-9 _`` (accents are
dropped first: ``é`` -> ``e``) becomes ``_``, ``_`` trimmed at both ends, a leading
digit gets a ``_`` prefix, an empty result becomes ``column_{position}``; duplicates
then follow rule 2 with ``_N`` instead of ``.N``. ``DGUID`` -> ``dguid``,
``PRENAME`` -> ``prename``, ``Nom (fr)`` -> ``nom_fr``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence


def unique_column_names(names: Sequence[str], *, reserved: Iterable[str] = (), separator: str = ".") -> list[str]:
    reserved_set = set(reserved)
    result: list[str | None] = [None] * len(names)
    taken: set[str] = set()
    for position, name in enumerate(names):
        if name in reserved_set and name.casefold() not in taken:
            result[position] = name
            taken.add(name.casefold())
    for position, name in enumerate(names):
        if result[position] is not None:
            continue
        candidate = name if name else f"column_{position + 1}"
        if candidate.casefold() in taken:
            suffix = 1
            while f"{candidate}{separator}{suffix}".casefold() in taken:
                suffix += 1
            candidate = f"{candidate}{separator}{suffix}"
        result[position] = candidate
        taken.add(candidate.casefold())
    return [name for name in result if name is not None]


_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]+")


def normalised_attribute_name(name: str, position: int) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", name))
    ascii_only = "".join(char for char in decomposed if not unicodedata.combining(char))
    cleaned = _NOT_IDENTIFIER.sub("_", ascii_only.lower()).strip("_")
    if not cleaned:
        return f"column_{position + 1}"
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def normalised_attribute_names(names: Sequence[str], *, reserved: Iterable[str] = ()) -> list[str]:
    cleaned = [normalised_attribute_name(name, position) for position, name in enumerate(names)]
    return unique_column_names(cleaned, reserved=reserved, separator="_")
