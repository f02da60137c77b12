"""The two strict YAML readers give the same document: the fast one (yaml_rs) only where it reads as PyYAML does."""

from __future__ import annotations

import pytest

from dfc_assets.registry import RegistryError, load_registry, packaged_registry_path
from dfc_assets.registry import strict_yaml
from dfc_assets.registry.strict_yaml import StrictYamlError, load_strict_yaml, read_fast, read_with_libyaml

# Each differs between YAML 1.1 (PyYAML) and a YAML 1.2 or lax reader, or is a refusal of today's loader.
CORPUS = [
    "a: yes\n", "a: No\n", "a: on\n", "a: OFF\n", "a: y\n", "a: true\n", "a: TRUE\n", "a: False\n",
    "a: 010\n", "a: 0o10\n", "a: _5\n", "a: -_5\n", "a: 1_000\n", "a: 0x1F\n", "a: 0b101\n", "a: 12\n", "a: -3\n", "a: 0\n",
    "a: [1, 6, 12]\n", "a:\n  - 1\n  - 2\n", "a: 1e3\n", "a: 2016.10\n", "a: .5\n", "a: .inf\n", "a: 1:30\n", "a: 190:20:30\n",
    "a: 2024-06-20\n", "a: \"2024-06-20\"\n", "a: 2024-06-20 10:00:00\n", "a: 2024-6-2\n", "a: \"2016.10\"\n", "a: '33100036'\n",
    "a: ~\n", "a: null\n", "a: Null\n", "a:\n", "a: \"\"\n", "a: =\n",
    "2016: x\n", "\"2016\": x\n", "yes: x\n", "'yes': x\n", "2016.10: x\n", "? [1]\n: 2\n", "? a\n: b\n",
    "a: 1\na: 2\n", "a: {b: 1, b: 2}\n", "a: !!str 5\n", "a: !foo x\n", "a: !!binary aGVsbG8=\n", "a: &x [1]\nb: *x\n",
    "<<: {a: 1}\nb: 2\n", "base: &b {a: 1}\nc:\n  <<: *b\n", "---\na: 1\n", "a: 1\n---\nb: 2\n", "- a\n---\n- b\n", "%YAML 1.1\n---\na: 1\n",
    "a: x\x07y\n", "a: \"x\\x07y\"\n", "a: x\x85y\n", "a: x\u2028y\n", "a: x\ufffey\n", "a: é 😀\n", "a: \"\\U0001F600\"\n",
    "a: [\"2024-06-20\", \"2016.10\"]\n", "a: [2024-06-20]\n", "a: plain\n  continued\n", "a: |\n  t\n  u\n", "a: >\n  x\n  y\n", "a: 'it''s'\n", "a: \"q\\\"q\"\n", "a: b # comment\n",
    "a: R&D\n", "a: R & D\n", "a: Hi!\n", "a: 5 # five\n", "a: [5, 'x: 5']\n", "a: \"t: 5\\n\"\nb: 5\n", "", "# only a comment\n",
    "a: b\n  c: d\n", "a:\n\t- b\n", "[1, 2\n", "a: 'unclosed\n", "a: 12345678901234567890\n",
]


def typed(value):
    """A value with the type of every part, so that 1 == True and 1 == 1.0 do not hide a difference."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, value if value == value else "nan")


def reference(text: str):
    try:
        return typed(read_with_libyaml(text, "t.yaml"))
    except StrictYamlError as error:
        return ("refused", str(error))
    except ValueError as error:  # PyYAML's own constructors (an impossible date)
        return ("raised", type(error).__name__)


@pytest.mark.parametrize("text", CORPUS)
def test_the_fast_reader_reads_what_pyyaml_reads_or_leaves_the_text_to_it(text):
    pytest.importorskip("yaml_rs")
    read, document = read_fast(text)
    if read:
        assert typed(document) == reference(text)
    try:
        strict = typed(load_strict_yaml(text, "t.yaml"))
    except StrictYamlError as error:
        strict = ("refused", str(error))
    except ValueError as error:
        strict = ("raised", type(error).__name__)
    assert strict == reference(text)


def test_the_shipped_registries_and_todays_entry_format_take_the_fast_reader():
    pytest.importorskip("yaml_rs")
    examples = packaged_registry_path().parent / "examples" / "statcan-tables.yaml"
    entry = ('datasets:\n  - key: statcan_table_10100001\n    id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_10100001\n'
             '    title: {en: "Table 1", fr: "Tableau 1"}\n    min_version_interval: 30\n'
             '    source: {kind: statcan_table, product_id: "10100001", languages: [en, fr], fiscal_year_start_month: 4}\n'
             '    accepted_schema_changes: ["2016.10", "2021"]\n')
    for text in (packaged_registry_path().read_text(encoding="utf-8"), examples.read_text(encoding="utf-8"), entry):
        read, document = read_fast(text)
        assert read, text[:200]
        assert typed(document) == reference(text)


@pytest.fixture(params=["fast", "reference"])
def reader(request, monkeypatch):
    if request.param == "fast":
        pytest.importorskip("yaml_rs")
    else:
        monkeypatch.setattr(strict_yaml, "yaml_rs", None)
    return request.param


HEAD = "datasets:\n  - key: demo\n    id: ca_demo_2021\n    title: {en: Demo}\n    description: {en: A file}\n    producer: Data for Canada\n"
SOURCE = "    source:\n      kind: statcan_boundary\n      url: \"https://example.org/b.zip\"\n"


@pytest.mark.parametrize("body, message", [
    ("    license: CC0-1.0\n    license: CC-BY-4.0\n" + SOURCE, r"line 8: duplicate key 'license' \(first given on line 7\)"),
    ("    license: CC0-1.0\n" + SOURCE + "      versions:\n        2016: {url: \"https://example.org/a.zip\"}\n",
     r"line 12: the key 2016 is read by YAML as int 2016.*quote it"),
    ("    license: !!python/name:os.system\n" + SOURCE, r"not valid YAML.*python/name"),
    ("    license: CC0-1.0\n    min_version_interval: _5\n" + SOURCE, r"dataset 'demo': field 'min_version_interval'.*'_5'"),
    ("    license: CC0-1.0\n    min_version_interval: 010\n" + SOURCE, None),
    ("    license: CC0-1.0\n    accepted_schema_changes: [2016.10]\n" + SOURCE, r"field 'accepted_schema_changes'.*text, got float"),
    ("    license: CC0-1.0\n    title: {en: yes}\n" + SOURCE, r"line 8: duplicate key 'title'"),
])
def test_every_refusal_holds_with_either_reader(tmp_path, reader, body, message):
    path = tmp_path / "datasets.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    if message is None:  # YAML 1.1 reads 010 as 8, as it always did
        assert load_registry(path).entries[0].min_version_interval == 8
        return
    with pytest.raises(RegistryError, match=message):
        load_registry(path)
