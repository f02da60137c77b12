"""Issue 13.3 at the raw step, for every prebuilt format: a truncated or mislabelled file served by a loopback
server is refused with an error naming the dataset, the version and the format, and nothing is created in the
store (no archive, no index, no release); a sound file of the same format is archived byte for byte."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from datetime import datetime, timezone

import httpx
import pytest

from dfc_assets.publication.context import PublicationError
from dfc_assets.publication.raw import FAILED_DOWNLOADS_ENV, archive_raw
from dfc_assets.registry import load_registry
from dfc_assets.services.static_files import file_server
from dfc_assets.sources.prebuilt_checks import PREBUILT_FORMATS
from dfc_assets_tests.sources.test_sources_prebuilt_checks import files, truncated  # noqa: F401 - the module fixture

from .published_versions import make_publisher

PREBUILT = next(spec for spec in load_registry() if spec.source.kind == "prebuilt")
VERSION = "2025-09-01"  # a prebuilt file's version is its Last-Modified date
SERVED_AT = datetime(2025, 9, 1, 12, 0, tzinfo=timezone.utc).timestamp()
ANOTHER_FORMAT = {"pmtiles": "geoparquet", "geoparquet": "pmtiles", "parquet": "cog", "flatgeobuf": "parquet", "cog": "flatgeobuf"}


def test_every_prebuilt_format_is_covered():
    assert set(ANOTHER_FORMAT) == set(PREBUILT_FORMATS)


@pytest.fixture
def served(tmp_path, monkeypatch):
    monkeypatch.setenv(FAILED_DOWNLOADS_ENV, str(tmp_path / "kept"))
    root = tmp_path / "upstream"
    root.mkdir()
    server = file_server(root).start()
    try:
        with httpx.Client() as http:
            yield root, server.base_url, make_publisher(tmp_path / "store", tmp_path / "scratch", http)
    finally:
        server.stop()


def serve(path) -> None:
    os.utime(path, (SERVED_AT, SERVED_AT))


def spec_for(file_format: str, url: str):
    return replace(PREBUILT, source=replace(PREBUILT.source, url=url, format=file_format, versions={}))


def stored(publisher) -> list[str]:
    root = publisher.store.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("file_format", sorted(ANOTHER_FORMAT))
@pytest.mark.parametrize("fault", ["truncated", "mislabelled"])
def test_a_bad_prebuilt_file_is_refused_at_raw_with_nothing_created(files, served, file_format, fault):  # noqa: F811
    root, base_url, publisher = served
    name = f"upstream.{file_format}"
    if fault == "truncated":
        truncated(files[file_format], root / name)
    else:
        shutil.copyfile(files[ANOTHER_FORMAT[file_format]], root / name)
    serve(root / name)
    with pytest.raises(PublicationError) as refused:
        archive_raw(publisher, spec_for(file_format, f"{base_url}/{name}"), VERSION)
    message = str(refused.value)
    assert message.startswith(f"dataset {PREBUILT.key} version {VERSION}: {base_url}/{name}: "), message
    assert "nothing was archived or published" in message and "kept for diagnosis" in message
    assert stored(publisher) == []


@pytest.mark.parametrize("file_format", sorted(ANOTHER_FORMAT))
def test_a_sound_prebuilt_file_is_archived_as_it_is(files, served, file_format):  # noqa: F811
    root, base_url, publisher = served
    name = f"upstream.{file_format}"
    shutil.copyfile(files[file_format], root / name)
    serve(root / name)
    archived = archive_raw(publisher, spec_for(file_format, f"{base_url}/{name}"), VERSION)
    (entry,) = archived.files
    data = publisher.store.get_bytes(entry["key"])
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(files[file_format].read_bytes()).hexdigest() == entry["sha256"]
