from __future__ import annotations

from dfc_assets.transform.schema_drift import schema_drift

BASE = [("REF_DATE", "string"), ("VALUE", "double"), ("COORDINATE", "string"), ("DECIMALS", "int8")]


def test_no_change_ignores_order():
    drift = schema_drift(BASE, list(reversed(BASE)))
    assert not drift.breaking and drift.describe() == "no schema change"


def test_added_column_is_not_breaking():
    drift = schema_drift(BASE, BASE + [("SYMBOL", "string")])
    assert not drift.breaking and drift.describe() == "+ added 'SYMBOL' (string)"


def test_removed_retyped_and_renamed():
    current = [("REF_DATE", "string"), ("VALUE", "string"), ("COORD", "string")]
    drift = schema_drift([{"name": n, "type": t} for n, t in BASE], current)
    assert drift.breaking
    assert drift.retyped == (("VALUE", "double", "string"),)
    assert drift.possible_renames == (("COORDINATE", "COORD"),)
    assert drift.describe().splitlines() == [
        "renamed? 'COORDINATE' -> 'COORD'",
        "- removed 'DECIMALS' (int8)",
        "~ retyped 'VALUE': double -> string",
    ]
