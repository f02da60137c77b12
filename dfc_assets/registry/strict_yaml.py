"""YAML read strictly: duplicate keys refused, every mapping key a string, YAML 1.1 meanings kept.

PyYAML keeps the last of two equal keys and reads an unquoted ``2016.10:`` as the float 2016.1;
both silently change what a registry says, so both are errors naming the file and the line.

Two readers give the same document. The reference reader is PyYAML on libyaml's C parser
(``yaml.CSafeLoader``): about 0.6 ms per registry entry, seconds at 10,000 entries. The fast reader
is ``yaml_rs`` (a compiled parser that builds the Python objects itself, about 20 times faster), used
where it is installed and only where its document is provably PyYAML's: no tag, anchor, alias, merge
key, document marker or character PyYAML refuses in the text; every mapping key a string; every
string one that YAML 1.1 reads as a string, or one the fast reader would not read as a string were it
plain (so it was quoted: ``"33100036"``); every integer written as plain decimal digits; no float or
date. Anything else, and any text ``yaml_rs`` refuses, goes to the reference reader, which gives the
document or the error with its line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

try:
    import yaml_rs
except ImportError:  # the reference reader alone
    yaml_rs = None

_STR_TAG = "tag:yaml.org,2002:str"


class StrictYamlError(ValueError):
    """The YAML is not valid or says something ambiguously; the message names the file and line."""


class _StrictLoader(yaml.CSafeLoader):
    source_name = "<yaml>"


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    first_line: dict = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
            raw = key_node.value if isinstance(key_node, yaml.ScalarNode) else "(a list or mapping)"
            read_as = loader.construct_object(key_node, deep=True)
            raise StrictYamlError(
                f"{loader.source_name}: line {line}: the key {raw} is read by YAML as {type(read_as).__name__} "
                f"{read_as!r}, not as text; quote it (\"{raw}\") so it stays exactly as written"
            )
        key = key_node.value
        if key in mapping:
            raise StrictYamlError(
                f"{loader.source_name}: line {line}: duplicate key {key!r} (first given on line {first_line[key]}); "
                "YAML would silently keep only the last one"
            )
        first_line[key] = line
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_with_libyaml(text: str, source_name: str | Path) -> Any:
    """The reference reader: PyYAML on libyaml, every refusal with its line."""
    loader = _StrictLoader(text)
    loader.source_name = str(source_name)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise StrictYamlError(f"{source_name}: not valid YAML: {error}") from None
    finally:
        loader.dispose()


# Characters PyYAML refuses (control characters) or reads as line breaks (NEL, LS, PS); the C-fast test is one
# ``in`` a character.
_REFUSED_OR_BREAKS = tuple(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), *range(0x7F, 0xA0), 0x2028, 0x2029, 0xFFFE, 0xFFFF))
_TOKEN_BEFORE = frozenset(" \t\n\r[{,:")


def _at_token_start(text: str, mark: str) -> bool:
    at = text.find(mark)
    while at != -1:
        if at == 0 or text[at - 1] in _TOKEN_BEFORE:
            return True
        at = text.find(mark, at + 1)
    return False


def _text_needs_reference_reader(text: str) -> bool:
    """Constructs the fast reader reads otherwise than PyYAML, or cannot show in its document."""
    return (
        any(character in text for character in _REFUSED_OR_BREAKS)
        or any(_at_token_start(text, mark) for mark in "!&*" if mark in text)  # a tag, an anchor, an alias
        or "<<" in text  # a merge key
        or text.startswith(("---", "...", "%")) or "\n---" in text or "\n..." in text or "\n%" in text  # documents
    )


# PyYAML's implicit resolvers (what a plain scalar reads as), one pattern a first character.
_IMPLICIT = {
    start: re.compile("|".join(f"(?:{pattern.pattern})" for _tag, pattern in resolvers), re.VERBOSE)
    for start, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}


def _plain_reads_as_text(value: str) -> bool:
    """Whether YAML 1.1 reads ``value``, written as a plain scalar, as a string (``yes``, ``2016`` and ``1:30`` are not)."""
    pattern = _IMPLICIT.get(value[:1])
    return pattern is None or pattern.match(value) is None


def _written_quoted(values: set[str]) -> bool:
    """Every one of these strings (each one YAML 1.1 would read as other than text were it plain) was quoted in the
    text: the fast reader reads each of them, written plain, as other than a string too."""
    as_plain = yaml_rs.loads("".join(f"- {value}\n" for value in values), parse_datetime=False)
    return type(as_plain) is list and len(as_plain) == len(values) and not any(type(read) is str for read in as_plain)


def _integers_written_plainly(text: str, integers: dict[int, int]) -> bool:
    """Every integer the fast reader found was written as plain decimal digits, which YAML 1.1 reads alike (the fast
    reader also reads ``_5`` or ``010`` as integers, YAML 1.1 as a string and as 8)."""
    text += "\n"
    for value, count in integers.items():
        token = str(value)
        written = sum(text.count(before + token + after) for before in (": ", "- ", ", ", "[") for after in ("\n", "\r\n", ",", "]", "}", " #"))
        if written != count:
            return False
    return True


def _same_as_reference(text: str, document: Any) -> bool:
    """The fast reader's document is what PyYAML reads: strings that are strings in YAML 1.1 too, integers written
    plainly, booleans, None, and lists and mappings of those, every mapping key a string."""
    unsure: set[str] = set()
    integers: dict[int, int] = {}
    pending = [document]
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind is dict:
            for key in value:
                if type(key) is not str:
                    return False
                if not _plain_reads_as_text(key):
                    unsure.add(key)
            pending.extend(value.values())
        elif kind is list:
            pending.extend(value)
        elif kind is str:
            if not _plain_reads_as_text(value):
                unsure.add(value)
        elif kind is int:
            integers[value] = integers.get(value, 0) + 1
        elif kind is not bool and value is not None:  # a float: YAML 1.1 and 1.2 differ on 1e3
            return False
    return (not unsure or _written_quoted(unsure)) and _integers_written_plainly(text, integers)


def read_fast(text: str) -> tuple[bool, Any]:
    """(True, document) when the fast reader reads the text exactly as the reference reader; else (False, None)."""
    if yaml_rs is None or _text_needs_reference_reader(text):
        return False, None
    try:
        document = yaml_rs.loads(text, parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error)
        return (True, document) if _same_as_reference(text, document) else (False, None)
    except Exception:  # noqa: BLE001 - whatever the fast reader cannot do, the reference reader reads or refuses with its line
        return False, None


def load_strict_yaml(text: str, source_name: str | Path) -> Any:
    read, document = read_fast(text)
    return document if read else read_with_libyaml(text, source_name)
