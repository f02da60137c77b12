"""Strict inputs: whole-string identifiers, duplicate YAML keys, version keys that must be strings."""

from __future__ import annotations

import pytest

from dfc_assets.registry import RegistryError, load_registry
from dfc_assets.versions import InvalidVersionKey, validate_version_key

ENTRY = """
datasets:
  - key: {key}
    id: {id}
    title: {{en: Demo}}
    description: {{en: A file}}
    producer: Data for Canada
    license: CC0-1.0
{extra}    source:
      kind: statcan_boundary
      url: "https://example.org/b.zip"
{source_extra}"""


def write(tmp_path, key='"demo"', id='"ca_demo_2021"', extra="", source_extra=""):
    path = tmp_path / "datasets.yaml"
    path.write_text(ENTRY.format(key=key, id=id, extra=extra, source_extra=source_extra), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", ["2021\n", "2021\r", "2021\x00", "2021\t", " 2021", "20 21", "2021/01", "", ".2021", "x" * 101, "2021\u2028"])
def test_version_keys_are_matched_over_the_whole_string(bad):
    with pytest.raises(InvalidVersionKey):
        validate_version_key(bad)


@pytest.mark.parametrize("bad", [2016.1, 2021, None, b"2021"])
def test_a_version_key_must_be_text(bad):
    with pytest.raises(InvalidVersionKey, match="text"):
        validate_version_key(bad)


def test_good_version_keys_pass():
    for good in ("2025-06-11", "2021.1", "2016.10", "v1_beta-2", "2022-02-09.2"):
        assert validate_version_key(good) == good


@pytest.mark.parametrize("field, value", [("key", r'"demo\n"'), ("key", r'"demo\t"'), ("id", r'"ca_demo_2021\n"'), ("id", r'"ca_demo\u0007"')])
def test_keys_and_ids_with_a_trailing_newline_or_a_control_character_are_refused(tmp_path, field, value):
    with pytest.raises(RegistryError, match=f"field '{field}'"):
        load_registry(write(tmp_path, **{field: value}))


def test_a_duplicate_key_is_refused_naming_the_file_and_the_line(tmp_path):
    path = write(tmp_path, extra="    license: CC-BY-4.0\n")
    with pytest.raises(RegistryError, match=r"datasets.yaml: line 9: duplicate key 'license' \(first given on line 8\)"):
        load_registry(path)


def test_a_duplicate_dataset_mapping_key_in_versions_is_refused(tmp_path):
    versions = '      versions:\n        "2016": {url: "https://example.org/a.zip"}\n        "2016": {url: "https://example.org/b.zip"}\n'
    with pytest.raises(RegistryError, match=r"line 14: duplicate key '2016' \(first given on line 13\)"):
        load_registry(write(tmp_path, source_extra=versions))


def test_an_unquoted_numeric_version_key_is_refused_saying_to_quote_it(tmp_path):
    versions = '      versions:\n        2016.10: {url: "https://example.org/a.zip"}\n'
    with pytest.raises(RegistryError, match=r'line 13: the key 2016.10 is read by YAML as float 2016.1.*quote it \("2016.10"\)'):
        load_registry(write(tmp_path, source_extra=versions))


def test_an_unquoted_numeric_version_in_a_list_is_refused(tmp_path):
    with pytest.raises(RegistryError, match=r"accepted_schema_changes.*a version key is text"):
        load_registry(write(tmp_path, extra="    accepted_schema_changes: [2016.10]\n"))


def test_a_version_key_with_a_newline_in_the_registry_is_refused(tmp_path):
    with pytest.raises(RegistryError, match=r"accepted_schema_changes.*invalid version key"):
        load_registry(write(tmp_path, extra='    accepted_schema_changes: ["2021\\n"]\n'))
    versions = '      versions:\n        "2016\\n": {url: "https://example.org/a.zip"}\n'
    with pytest.raises(RegistryError, match=r"source.versions.*invalid version key"):
        load_registry(write(tmp_path, source_extra=versions))


def test_a_url_with_a_control_character_is_refused(tmp_path):
    path = tmp_path / "datasets.yaml"
    path.write_text(ENTRY.format(key="demo", id="ca_demo", extra="", source_extra="").replace("b.zip", "b.zip\\n"), encoding="utf-8")
    with pytest.raises(RegistryError, match="source.url.*control character"):
        load_registry(path)
