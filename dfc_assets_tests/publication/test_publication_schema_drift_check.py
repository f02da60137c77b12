"""The blocking schema-drift check: against the previous *published* version in release order."""

from __future__ import annotations

from dataclasses import replace

from pathlib import Path

import httpx
import pytest

from dfc_assets.publication.context import Publisher, canonical_json
from dfc_assets.publication.schema_drift_check import check_schema_drift, previous_published_version, published_versions
from dfc_assets.registry import load_registry
from dfc_assets.settings import Settings
from dfc_assets.storage import LocalFolderStore, VersionKeys
from dfc_assets.transform.manifest import build_manifest
from dfc_assets.transform.result import TransformResult

SPEC = next(spec for spec in load_registry() if spec.key == "statcan_table_33100036")
BASE = [("REF_DATE", "string"), ("GEO", "string"), ("VALUE", "double")]


@pytest.fixture
def publisher(tmp_path):
    settings = Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/", local_store_root=tmp_path / "store")
    with httpx.Client() as http:
        yield Publisher(settings=settings, store=LocalFolderStore(tmp_path / "store", settings.public_base_url), http=http, zenodo=None, scratch=tmp_path / "scratch")  # type: ignore[arg-type]


def put_version(publisher, version, columns, *, published=True):
    keys = VersionKeys(SPEC.id, version)
    result = TransformResult(path=Path(keys.artifact_name), rows=1, size=1, sha256="0" * 64, columns=tuple(columns), bbox=None, footprint=None)
    manifest = build_manifest(dataset_id=SPEC.id, version=version, sources=[], result=result, code_version="c", configuration={})
    publisher.store.put_bytes(keys.manifest, manifest.to_bytes())
    if published:
        publisher.store.put_bytes(keys.zenodo_record, canonical_json({"doi": f"10.5281/zenodo.{len(version)}"}))


def test_the_first_version_passes(publisher):
    put_version(publisher, "2025-06-11", BASE, published=False)
    result = check_schema_drift(publisher, SPEC, "2025-06-11")
    assert result.passed and "no earlier published version" in result.description


def test_previous_is_by_release_order_and_only_published(publisher):
    put_version(publisher, "2025-06-10", BASE)
    put_version(publisher, "2025-06-12", BASE)
    put_version(publisher, "2025-06-09.1", BASE)
    put_version(publisher, "2025-06-10.1", BASE, published=False)  # built, never published: not a baseline
    assert published_versions(publisher, SPEC) == ["2025-06-09.1", "2025-06-10", "2025-06-12"]
    assert previous_published_version(publisher, SPEC, "2025-06-11") == "2025-06-10"
    assert previous_published_version(publisher, SPEC, "2025-06-09") is None
    assert previous_published_version(publisher, SPEC, "2025-06-12.1") == "2025-06-12"


def test_added_columns_pass_with_a_note(publisher):
    put_version(publisher, "2025-06-10", BASE)
    put_version(publisher, "2025-06-11", BASE + [("STATUS", "string")], published=False)
    result = check_schema_drift(publisher, SPEC, "2025-06-11")
    assert result.passed and "columns added" in result.description and "+ added 'STATUS' (string)" in result.description


def test_unchanged_schema_passes(publisher):
    put_version(publisher, "2025-06-10", BASE)
    put_version(publisher, "2025-06-11", list(reversed(BASE)), published=False)
    result = check_schema_drift(publisher, SPEC, "2025-06-11")
    assert result.passed and "no schema change" in result.description


@pytest.mark.parametrize(
    ("columns", "diff"),
    [
        ([("REF_DATE", "string"), ("VALUE", "double")], "- removed 'GEO' (string)"),
        ([("REF_DATE", "string"), ("GEOGRAPHY", "string"), ("VALUE", "double")], "renamed? 'GEO' -> 'GEOGRAPHY'"),
        ([("REF_DATE", "string"), ("GEO", "string"), ("VALUE", "int64")], "~ retyped 'VALUE': double -> int64"),
    ],
)
def test_removed_renamed_or_retyped_columns_fail_with_the_diff(publisher, columns, diff):
    put_version(publisher, "2025-06-10", BASE)
    put_version(publisher, "2025-06-11", columns, published=False)
    result = check_schema_drift(publisher, SPEC, "2025-06-11")
    assert not result.passed
    assert diff in result.description and result.details["previous_version"] == "2025-06-10"
    assert f"dataset {SPEC.key}" in result.description and "version 2025-06-11" in result.description
    assert "accepted_schema_changes" in result.description
    accepted = replace(SPEC, accepted_schema_changes=("2025-06-11",))
    assert check_schema_drift(publisher, accepted, "2025-06-11").passed


def test_no_manifest_fails(publisher):
    assert not check_schema_drift(publisher, SPEC, "2025-06-11").passed
