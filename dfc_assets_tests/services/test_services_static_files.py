"""Issue 12.6: the servers of files stay in their folder and follow RFC 9110 for Range.

Both file servers of the embedded default are exercised: the object store (`file_server`) and the sample-source
server, which serves upstream downloads with the same handler. Requests are written on raw sockets so that no
client normalises the hostile paths away.
"""

from __future__ import annotations

import json
import os
import socket

import httpx
import pytest

from dfc_assets.services.sample_sources import sample_source_server
from dfc_assets.services.static_files import file_server

SECRET = b"zenodo-token-not-for-you"
BODY = bytes(range(10))
SERVERS = {"object_store": file_server, "sample_sources": sample_source_server}


@pytest.fixture(params=sorted(SERVERS))
def served(request, tmp_path):
    """A served folder next to a secret, with a symlink to the secret and a symlinked directory out of the folder."""
    outside = tmp_path / "zenodo"
    outside.mkdir()
    (outside / ".token").write_bytes(SECRET)
    root = tmp_path / "store"
    (root / "releases").mkdir(parents=True)
    (root / "releases" / "file.bin").write_bytes(BODY)
    (root / "releases" / "empty.bin").write_bytes(b"")
    os.symlink(outside / ".token", root / "releases" / "token-link")
    os.symlink(outside, root / "outside-dir")
    os.symlink(root / "releases" / "file.bin", root / "inside-link.bin")
    server = SERVERS[request.param](root).start()
    try:
        yield server, root
    finally:
        server.stop()


def raw_request(server, target: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host, port = server.httpd.server_address[:2]
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    assert data, f"{target!r}: the connection was dropped without an answer"
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, body


def test_a_symlink_out_of_the_folder_is_not_followed(served):
    server, _ = served
    for target in ("/releases/token-link", "/outside-dir/.token", "/outside-dir/%2Etoken", "//outside-dir/.token"):
        status, _, body = raw_request(server, target)
        assert status == 404 and SECRET not in body, target


def test_a_symlink_inside_the_folder_is_served(served):
    server, _ = served
    status, _, body = raw_request(server, "/inside-link.bin")
    assert (status, body) == (200, BODY)


@pytest.mark.parametrize("target", [
    "/releases/file.bin%00", "/releases/%00/file.bin", "/../zenodo/.token", "/releases/../../zenodo/.token",
    "/%2e%2e/zenodo/.token", "/releases/%2E%2E/%2e%2e/zenodo/.token", "/..%2fzenodo%2f.token", "/releases%2ffile.bin",
    "/%2Fetc%2Fpasswd", "/%2F%2Fetc/passwd", "/releases/.\\..\\..\\zenodo\\.token", "/releases%5c..%5c..%5czenodo%5c.token",
    "releases/file.bin", "/releases/file.bin%0a", "/releases/%ff.bin", "/releases/./file.bin", "/releases//file.bin",
])
def test_malformed_paths_answer_400(served, target):
    server, _ = served
    status, _, body = raw_request(server, target)
    assert status == 400 and SECRET not in body


@pytest.mark.parametrize(("range_header", "status", "body", "content_range"), [
    ("bytes=2-4", 206, BODY[2:5], "bytes 2-4/10"),
    ("bytes=7-", 206, BODY[7:], "bytes 7-9/10"),
    ("bytes=-3", 206, BODY[7:], "bytes 7-9/10"),
    ("bytes=-30", 206, BODY, "bytes 0-9/10"),
    ("bytes=8-100", 206, BODY[8:], "bytes 8-9/10"),
    ("bytes=0-1,4-5", 200, BODY, None),      # several ranges: the RFC lets a server send the whole representation
    ("bytes=4-2", 200, BODY, None),          # an invalid range-spec: the header is ignored
    ("bytes=abc", 200, BODY, None),
    ("bytes=", 200, BODY, None),
    ("bytes=-", 200, BODY, None),
    ("items=0-1", 200, BODY, None),          # a unit we do not know
    ("bytes=0-1;x", 200, BODY, None),
    ("bytes=10-", 416, b"", "bytes */10"),   # starts past the end: unsatisfiable
    ("bytes=99999999999999999999999-", 416, b"", "bytes */10"),
    ("bytes=-0", 416, b"", "bytes */10"),
])
def test_range_follows_rfc_9110(served, range_header, status, body, content_range):
    server, _ = served
    got_status, headers, got_body = raw_request(server, "/releases/file.bin", {"Range": range_header})
    assert (got_status, got_body) == (status, body)
    assert headers.get("content-range") == content_range
    assert int(headers["content-length"]) == len(body)


def test_range_on_an_empty_file(served):
    server, _ = served
    assert raw_request(server, "/releases/empty.bin", {"Range": "bytes=0-"})[0] == 416
    status, _, body = raw_request(server, "/releases/empty.bin", {"Range": "bytes=-5"})
    assert (status, body) == (200, b"")


def test_if_range_with_a_stale_validator_sends_the_whole_file(served):
    server, _ = served
    _, headers, _ = raw_request(server, "/releases/file.bin", method="HEAD")
    assert raw_request(server, "/releases/file.bin", {"Range": "bytes=0-1", "If-Range": headers["etag"]})[0] == 206
    status, _, body = raw_request(server, "/releases/file.bin", {"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert (status, body) == (200, BODY)


def test_the_same_connection_keeps_working_after_a_bad_request(served):
    server, _ = served
    with httpx.Client(base_url=server.base_url) as client:
        assert client.get("/releases/file.bin", headers={"Range": "bytes=zzz"}).content == BODY
        assert client.get("/releases/file.bin", headers={"Range": "bytes=1-1"}).content == BODY[1:2]


def test_sample_sources_metadata_cannot_name_a_file_outside(tmp_path):
    root = tmp_path / "sources"
    (root / "wds" / "cube-metadata").mkdir(parents=True)
    (tmp_path / "services.json").write_text(json.dumps({"zenodo_token": SECRET.decode()}))
    server = sample_source_server(root).start()
    try:
        response = httpx.post(server.base_url + "/t1/wds/rest/getCubeMetadata", json=[{"productId": "../../../services"}])
        assert SECRET not in response.content
        assert response.json() == [{"status": "FAILED", "object": {"responseStatusCode": 1}}]
        listing = httpx.get(server.base_url + "/t1/wds/rest/getFullTableDownloadCSV/..%2F..%2Fservices/en")
        assert SECRET not in listing.content
    finally:
        server.stop()
