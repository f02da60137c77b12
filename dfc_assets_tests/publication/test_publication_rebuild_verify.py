"""`verify_rebuild`: a published version rebuilt from archive/ (in this environment, and in a throwaway one made
offline from the lock and the manifest's pins) has the published sha256 and info-hashes; a library whose
recorded version differs is named."""

from __future__ import annotations

import json
import os

import pytest

from dfc_assets.cli.embedded import embedded
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.publication.context import PublicationError
from dfc_assets.publication.rebuild import verify_rebuild
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import LocalServices
from dfc_assets.storage import VersionKeys
from dfc_assets.transform.manifest import library_versions

TABLE = next(spec for spec in load_registry() if spec.key == "statcan_table_33100036")
VERSION = "2025-06-11"


@pytest.fixture(scope="module")
def publisher(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rebuild-verify")
    saved = {name: os.environ.get(name) for name in ("DFC_SERVICES_FILE", "DAGSTER_HOME")}
    try:
        with LocalServices(workdir), embedded(workdir, say=lambda message: None) as run:
            assert run.publish(TABLE, VERSION) is None
            with PublisherResource().open(lambda message: None) as publisher:
                yield publisher
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _rewrite_manifest(publisher, change) -> bytes:
    key = VersionKeys(TABLE.id, VERSION).manifest
    original = publisher.store.get_bytes(key)
    manifest = json.loads(original)
    change(manifest)
    publisher.store.put_bytes(key, json.dumps(manifest).encode())
    return original


def test_rebuild_in_a_fresh_environment_from_the_lock_has_the_published_bytes_and_infohashes(publisher):
    check = verify_rebuild(publisher, TABLE, VERSION, recorded_environment=True, offline=True)
    assert check.environment == "recorded"
    assert check.published_infohashes is not None and check.published_infohashes[0]
    assert check.same_bytes and check.same_infohashes and check.matches, check.lines()
    assert check.library_differences == {} and check.lock_difference is None and check.code_difference is None


def test_rebuild_in_the_running_environment_matches(publisher):
    check = verify_rebuild(publisher, TABLE, VERSION)
    assert check.matches and check.library_differences == {}, check.lines()


def test_a_different_recorded_pyarrow_is_named(publisher):
    """Faked: the manifest records another pyarrow (installing a second pyarrow offline is impossible here)."""
    running = library_versions()["pyarrow"]
    def change(manifest):
        manifest["libraries"]["pyarrow"] = "18.0.0"
        manifest["output"]["sha256"] = "0" * 64
        manifest["files"][0]["sha256"] = "0" * 64
        manifest["configuration"]["transform_code_version"] = "1"
        del manifest["lock"]

    original = _rewrite_manifest(publisher, change)
    try:
        check = verify_rebuild(publisher, TABLE, VERSION)
        assert not check.same_bytes and check.same_infohashes
        assert check.library_differences == {"pyarrow": ("18.0.0", running)}
        text = "\n".join(check.lines())
        assert f"pyarrow: the manifest records 18.0.0, the rebuild ran {running}" in text
        assert "sha256 DIFFERENT" in text and "--recorded-environment" in text
        assert "TRANSFORM_CODE_VERSION: the manifest records 1, this code is 2" in text
        assert "lock: the manifest records no lock, this code runs from sha256 " in text
        with pytest.raises(PublicationError, match=r"(?s)statcan_table_33100036.*2025-06-11.*pyarrow==18\.0\.0"):
            verify_rebuild(publisher, TABLE, VERSION, recorded_environment=True, offline=True)
    finally:
        publisher.store.put_bytes(VersionKeys(TABLE.id, VERSION).manifest, original)


def test_unpublished_version_is_refused(publisher):
    with pytest.raises(PublicationError, match="statcan_table_33100036.*1999-01-01.*no manifest"):
        verify_rebuild(publisher, TABLE, "1999-01-01")


def test_dfc_rebuild_verify_prints_the_comparison(publisher, capsys, tmp_path):
    from dfc_assets.cli.main import main

    assert main(["rebuild", "--verify", TABLE.key, VERSION, "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"dataset {TABLE.key} version {VERSION}: rebuilt from archive/ in the running environment" in out
    assert "sha256 same" in out and "info-hashes same" in out
