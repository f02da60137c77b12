"""YAML read strictly: libyaml's C parser, duplicate keys refused, every mapping key a string.

PyYAML keeps the last of two equal keys and reads an unquoted ``2016.10:`` as the float 2016.1;
both silently change what a registry says, so both are errors naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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


def load_strict_yaml(text: str, source_name: str | Path) -> Any:
    loader = _StrictLoader(text)
    loader.source_name = str(source_name)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise StrictYamlError(f"{source_name}: not valid YAML: {error}") from None
    finally:
        loader.dispose()
