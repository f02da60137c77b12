"""Every source kind answers the whole protocol, and dispatch goes through it."""

from __future__ import annotations

import inspect

import pytest

from dfc_assets.registry import load_registry
from dfc_assets.sources import source_config, source_kind
from dfc_assets.sources.kinds import KINDS, SourceKind

PROTOCOL = [name for name in dir(SourceKind) if name.isupper() or (not name.startswith("_") and callable(getattr(SourceKind, name)))]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_module_has_the_whole_protocol(name):
    kind = KINDS[name]
    assert kind.NAME == name and {"parse_source", "check_changes", "transform", "source_config", "fetch_release"} <= set(PROTOCOL)
    for attribute in PROTOCOL:
        assert hasattr(kind, attribute), f"{name} lacks {attribute}"
        if callable(getattr(SourceKind, attribute)):
            expected = list(inspect.signature(getattr(SourceKind, attribute)).parameters)[1:]
            assert list(inspect.signature(getattr(kind, attribute)).parameters) == expected, f"{name}.{attribute}"
    assert "kind" in kind.SOURCE_FIELDS


def test_dispatch_by_the_source_kind():
    specs = {spec.key: spec for spec in load_registry()}
    table, boundary = specs["statcan_table_33100036"], specs["fixture_provinces_territories"]
    assert source_kind(table) is KINDS["statcan_table"] and source_kind(boundary.source) is KINDS["statcan_boundary"]
    assert source_config(table, "2025-06-11") == {"kind": "statcan_table", "product_id": "33100036", "languages": ["en"],
                                                  "fiscal_year_start_month": 7, "ragged_rows": "error"}
    past = source_config(boundary, "2016")
    assert past["url"].endswith("lpr_000b16a_e_synthetic.zip") and past["invalid_geometries"] == "repair"
    assert source_config(boundary, "2022-02-09")["url"] == boundary.source.url
