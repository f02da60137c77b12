"""The bad-input corpus (corpus/cases.json, made by corpus/make_corpus.py): every case ends as it says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dfc_assets.transform.census_profile import census_profile_to_parquet
from dfc_assets.transform.result import TransformError
from dfc_assets.transform.statcan_table import statcan_table_to_parquet
from dfc_assets.transform.vector import vector_zip_to_geoparquet

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
TRANSFORMS = {
    "statcan_table": lambda src, out, **o: statcan_table_to_parquet(src, out, product_id="12345678", **o),
    "vector": vector_zip_to_geoparquet,
    "census_profile": census_profile_to_parquet,
}


def test_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert all((CORPUS / case["file"]).exists() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['transform']}:{c['file']}" for c in CASES])
def test_corpus_case(case, tmp_path):
    out = tmp_path / "out.parquet"
    transform = TRANSFORMS[case["transform"]]
    if "error" in case:
        with pytest.raises(TransformError) as caught:
            transform(CORPUS / case["file"], out, **case["options"])
        message = str(caught.value)
        assert re.search(case["error"], message), f"{case['what']}: {message}"
        assert case["file"] in message or case["file"].removesuffix(".zip") in message
        if case["transform"] == "statcan_table" and "8 digits" not in message:
            assert "12345678" in message
        assert not out.exists() and not list(tmp_path.iterdir())
    else:
        result = transform(CORPUS / case["file"], out, **case["options"])
        assert set(case["columns_include"]) <= set(pq.read_schema(result.path).names)
