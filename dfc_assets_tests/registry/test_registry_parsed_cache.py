"""A large registry is validated once per content (kept from its second parse on: a first load pays no pickling); the
kept result is used only when it is private to this user."""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from dfc_assets.registry import RegistryError, load_registry

ENTRY = """  - key: statcan_table_{pid}
    id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{pid}
    title:
      en: "{en}"
      fr: "{fr}"
    description:
      en: Statistics Canada table {pid}, the full table as analysis-ready Parquet, with every series and reference date.
      fr: Tableau {pid} de Statistique Canada, le tableau complet en Parquet, avec toutes les séries et dates de référence.
    producer: Statistics Canada
    producer_url: https://www.statcan.gc.ca
    license: OGL-Canada-2.0
    license_url: https://www.statcan.gc.ca/en/reference/licence
    keywords: [statistics canada, wds table]
    creators: ["Statistics Canada", "Data for Canada"]
    owners: ["team:data-for-canada"]
    source:
      kind: statcan_table
      product_id: "{pid}"
      languages: [en]
"""


@pytest.fixture
def big_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("DFC_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "registry.yaml"
    path.write_text("datasets:\n" + "".join(ENTRY.format(pid=f"{10100000 + n}", en=f"Table {n}", fr=f"Tableau {n}") for n in range(400)))
    return path


def kept(tmp_path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("registry-*.pickle"))


def test_the_validated_registry_is_kept_and_used_for_the_same_bytes_only(tmp_path, big_registry):
    first = load_registry(big_registry)
    assert kept(tmp_path) == []  # the first load of a content parses only
    assert load_registry(big_registry).entries == first.entries
    (entry,) = kept(tmp_path)
    assert load_registry(big_registry).entries == first.entries
    big_registry.write_text(big_registry.read_text().replace('en: "Table 7"', 'en: "Table seven"'))
    for _ in range(2):
        assert next(s for s in load_registry(big_registry) if s.key == "statcan_table_10100007").title.en == "Table seven"
    assert len(kept(tmp_path)) == 2 and entry.exists()


def test_a_kept_file_others_can_write_is_not_read(tmp_path, big_registry):
    load_registry(big_registry)
    real = load_registry(big_registry)
    (entry,) = kept(tmp_path)
    entry.write_bytes(pickle.dumps(replace(real, entries=real.entries[:1])))
    assert len(load_registry(big_registry)) == 1  # private: used
    os.chmod(entry, 0o666)
    assert len(load_registry(big_registry)) == 400  # writable by others: parsed afresh


def test_errors_are_not_kept(tmp_path, big_registry):
    big_registry.write_text(big_registry.read_text().replace('product_id: "10100003"', 'product_id: "1010003"'))
    for _ in range(3):
        with pytest.raises(RegistryError, match="statcan_table_10100003.*product_id"):
            load_registry(big_registry)
    assert kept(tmp_path) == []
