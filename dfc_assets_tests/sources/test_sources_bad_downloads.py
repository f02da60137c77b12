"""Source-side bad inputs against a misbehaving loopback server: each a clear error, nothing left behind."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dfc_assets.registry import DatasetSpec, HttpFileSource, StatcanBoundarySource, StatcanTableSource, load_registry
from dfc_assets.settings import Settings
from dfc_assets.sources import DownloadLimits, SourceError, UnexpectedContent, content_problem, download, fetch_release
from dfc_assets_tests.sources.bad_upstream import BadUpstream

BOUNDARY = next(spec for spec in load_registry() if isinstance(spec.source, StatcanBoundarySource))
TABLE = next(spec for spec in load_registry() if isinstance(spec.source, StatcanTableSource))
LABEL = "dataset demo version 2022-02-09"
QUICK = DownloadLimits(max_bytes=10_000, total_seconds=5.0, stall_seconds=5.0)


@pytest.fixture(scope="module")
def upstream():
    with BadUpstream() as server:
        yield server


@pytest.fixture
def client():
    with httpx.Client() as http:
        yield http


def settings_for(upstream: BadUpstream) -> Settings:
    return Settings(zenodo_url="http://127.0.0.1:9", store_kind="local", public_base_url="http://127.0.0.1:9/",
                    wds_base_url=upstream.url("wds"), sources_base_url=upstream.base_url)


def spec_at(url: str, spec: DatasetSpec = BOUNDARY) -> DatasetSpec:
    return replace(spec, source=replace(spec.source, url=url, versions={}))


def a_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("a.txt", date_time=(2025, 1, 1, 0, 0, 0)), "hello")  # same bytes (and test ids) every time
    return buffer.getvalue()


def failing_download(client, url, tmp_path, limits=QUICK) -> str:
    with pytest.raises(SourceError) as error:
        download(client, url, tmp_path / "dl", label=LABEL, limits=limits)
    assert list((tmp_path / "dl").iterdir()) == [], "a failed download leaves no file, not even a .part"
    message = str(error.value)
    assert message.startswith(LABEL + ":"), message
    return message


@pytest.mark.parametrize(
    ("path", "limits", "words"),
    [
        ("status/404/a.zip", QUICK, "answered 404 Not Found; the file is not there"),
        ("status/410/a.zip", QUICK, "answered 410 Gone"),
        ("status/500/a.zip", QUICK, "answered 500 Internal Server Error; upstream is failing; try again later"),
        ("status/503/a.zip", QUICK, "answered 503 Service Unavailable"),
        ("silent/a.zip", replace(QUICK, stall_seconds=0.3), "timed out: no byte for 0.3 s"),
        ("trickle/a.zip", replace(QUICK, total_seconds=0.4, max_bytes=10**7), "is too slow"),
        ("loop/a.zip", QUICK, "redirect loop or too many redirects"),
        ("short/a.zip", replace(QUICK, max_bytes=10**6), "closed the connection after 500 of the 100000 bytes its Content-Length announced"),
        ("sized/20000/a.zip", QUICK, "announces 20000 bytes, over the download limit of 10000 bytes (raise DFC_DOWNLOAD_MAX_BYTES"),
        ("chunked/200000/a.zip", QUICK, "sent more than the download limit of 10000 bytes; stopped"),
    ],
)
def test_bad_answers_are_clear_errors_and_leave_no_file(upstream, client, tmp_path, path, limits, words):
    message = failing_download(client, upstream.url(path), tmp_path, limits)
    assert words in message
    assert upstream.url(path) in message


def test_a_connection_refused_is_a_clear_error(client, tmp_path):
    message = failing_download(client, "http://127.0.0.1:9/a.zip", tmp_path)
    assert "cannot connect" in message


def test_a_good_file_is_fingerprinted(upstream, client, tmp_path):
    data = a_zip()
    file = download(client, upstream.serve("good.zip", data), tmp_path / "dl", label=LABEL, limits=QUICK)
    assert file.path.read_bytes() == data and file.size == len(data)
    assert file.last_modified and file.etag and file.sha256


def test_an_html_page_served_as_the_zip_is_refused_before_archiving(upstream, client, tmp_path):
    spec = spec_at(upstream.url("html/lpr_000b21a_e.zip"))
    with pytest.raises(UnexpectedContent) as error:
        fetch_release(spec, "2022-02-09", settings_for(upstream), client, tmp_path / "dl", limits=QUICK)
    message = str(error.value)
    assert f"dataset {spec.key} version 2022-02-09" in message
    assert "HTML/XML page (served as text/html; charset=utf-8), not a zip file" in message
    assert error.value.path.read_bytes().startswith(b"<!DOCTYPE html>"), "the bytes are kept for diagnosis"


def test_a_wds_failed_status_inside_http_200_names_dataset_and_version(upstream, client, tmp_path):
    with pytest.raises(SourceError) as error:
        fetch_release(TABLE, "2025-06-11", settings_for(upstream), client, tmp_path / "dl", limits=QUICK)
    message = str(error.value)
    assert message.startswith(f"dataset {TABLE.key} version 2025-06-11: WDS getCubeMetadata for table 33100036")
    assert "status 'FAILED' inside HTTP 200" in message and "product not available" in message


def test_a_current_release_of_a_missing_file_names_the_status(upstream, client, tmp_path):
    spec = spec_at(upstream.url("status/404/x.zip"))
    upstream_head_is_200 = True  # HEAD answers 200 everywhere; the GET says 404
    assert upstream_head_is_200
    with pytest.raises(SourceError, match=f"dataset {spec.key} version 2022-02-09: GET .* answered 404 Not Found"):
        fetch_release(spec, "2022-02-09", settings_for(upstream), client, tmp_path / "dl", limits=QUICK)


def http_file(url: str, file_format: str) -> DatasetSpec:
    return replace(BOUNDARY, key="demo_file", source=HttpFileSource(url=url, format=file_format))


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2]}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "file_format", "problem"),
    [
        ("a.csv", b"id,name\n1,x\n", "csv", None),
        ("a.csv", a_zip(), "csv", "it is a zip, not a CSV file"),
        ("a.csv", b"\x00\x01\x02binary", "csv", "binary, not CSV text"),
        ("a.geojson", b'{"type": "FeatureCollection", "features": []}', "geojson", None),
        ("a.geojson", b"[1, 2]", "geojson", "not GeoJSON"),
        ("a.gpkg", b"SQLite format 3\x00" + b"\0" * 100, "gpkg", None),
        ("a.gpkg", b"PK\x03\x04 not sqlite", "gpkg", "not a GeoPackage"),
        ("a.parquet", parquet_bytes(), "parquet", None),
        ("a.parquet", parquet_bytes()[:-10], "parquet", "no PAR1 magic at the end: truncated?"),
        ("a.parquet", b"", "parquet", "the file is empty (0 bytes)"),
        ("a.zip", a_zip()[:-30], "zip", "starts like a zip but has no central directory"),
        ("a.zip", b"  \n<html><body>Error</body></html>", "zip", "HTML/XML page"),
    ],
)
def test_content_checks(tmp_path, name, data, file_format, problem):
    path = tmp_path / name
    path.write_bytes(data)
    found = content_problem(path, file_format)
    assert (found is None) if problem is None else (problem in found), found


def test_an_http_file_is_fetched_and_checked_by_its_format(upstream, client, tmp_path):
    url = upstream.serve("places.csv", b"id,name\n1,x\n")
    files = fetch_release(http_file(url, "csv"), "2022-02-09", settings_for(upstream), client, tmp_path / "dl", limits=QUICK)
    assert [f.file_name for f in files] == ["places.csv"]
    upstream.serve("places.gpkg", b"id,name\n1,x\n")
    with pytest.raises(UnexpectedContent, match="not a GeoPackage"):
        fetch_release(http_file(upstream.url("files/places.gpkg"), "gpkg"), "2022-02-09", settings_for(upstream), client, tmp_path / "dl2", limits=QUICK)


def test_download_limits_from_the_environment():
    limits = DownloadLimits.from_environ({"DFC_DOWNLOAD_MAX_BYTES": "1000", "DFC_DOWNLOAD_TIMEOUT_SECONDS": "60", "DFC_DOWNLOAD_STALL_SECONDS": "2.5"})
    assert (limits.max_bytes, limits.total_seconds, limits.stall_seconds) == (1000, 60.0, 2.5)
    assert DownloadLimits.from_environ({}) == DownloadLimits()
    with pytest.raises(SourceError, match="DFC_DOWNLOAD_MAX_BYTES='lots' is not a number"):
        DownloadLimits.from_environ({"DFC_DOWNLOAD_MAX_BYTES": "lots"})
    with pytest.raises(SourceError, match="must be positive"):
        DownloadLimits.from_environ({"DFC_DOWNLOAD_STALL_SECONDS": "0"})
