"""A loopback HTTP server that misbehaves on purpose: the source-side bad-input corpus.

Paths (every one also answers HEAD with 200 and a Last-Modified, so a release can be found):
- ``/files/{name}``           the bytes registered with ``serve``, 200, Last-Modified, ETag
- ``/status/{code}/{name}``   that HTTP status with a small body
- ``/silent/{name}``          accepts the request and never answers until the test ends
- ``/trickle/{name}``         200, then one byte every ``trickle_interval`` seconds
- ``/loop/{name}``            302 to itself, forever
- ``/short/{name}``           Content-Length 100000, then 500 bytes and a closed connection
- ``/sized/{bytes}/{name}``   that many bytes, announced by Content-Length
- ``/chunked/{bytes}/{name}`` that many bytes, chunked, with no Content-Length
- ``/html/{name}``            200 text/html: an error page where a file should be
- ``/wds/...``                WDS answering ``{"status": "FAILED"}`` inside HTTP 200
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler

from dfc_assets.services.static_files import BackgroundServer

LAST_MODIFIED = "Wed, 09 Feb 2022 10:00:00 GMT"
HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body>Try later</body></html>\n"


class BadUpstream:
    def __init__(self, trickle_interval: float = 0.05) -> None:
        self.files: dict[str, bytes] = {}
        self.trickle_interval = trickle_interval
        self.released = threading.Event()
        self.requests: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002
                return

            def do_HEAD(self):
                upstream.requests.append(f"HEAD {self.path}")
                self.send_response(200)
                self.send_header("Last-Modified", LAST_MODIFIED)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                upstream.requests.append(f"POST {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.wds()

            def do_GET(self):
                upstream.requests.append(f"GET {self.path}")
                parts = self.path.strip("/").split("/")
                kind = parts[0]
                if kind == "wds":
                    return self.wds()
                if kind == "files" and parts[-1] in upstream.files:
                    data = upstream.files[parts[-1]]
                    return self.send_bytes(200, data, etag=f'"{hashlib.sha256(data).hexdigest()[:16]}"')
                if kind == "status":
                    return self.send_bytes(int(parts[1]), f"status {parts[1]}\n".encode(), content_type="text/plain")
                if kind == "silent":
                    upstream.released.wait(30)
                    return None
                if kind == "trickle":
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    for _ in range(1_000_000):
                        if upstream.released.is_set():
                            break
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(upstream.trickle_interval)
                    self.close_connection = True
                    return None
                if kind == "loop":
                    self.send_response(302)
                    self.send_header("Location", self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if kind == "short":
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"PK" + b"\0" * 498)
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                if kind == "sized":
                    return self.send_bytes(200, b"\0" * int(parts[1]))
                if kind == "chunked":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    remaining = int(parts[1])
                    while remaining:
                        size = min(remaining, 65536)
                        self.wfile.write(f"{size:x}\r\n".encode() + b"\0" * size + b"\r\n")
                        remaining -= size
                    self.wfile.write(b"0\r\n\r\n")
                    return None
                if kind == "html":
                    return self.send_bytes(200, HTML_PAGE, content_type="text/html; charset=utf-8")
                return self.send_bytes(404, b"not found\n", content_type="text/plain")

            def wds(self):
                body = b'[{"status": "FAILED", "object": "Failed to retrieve data: product not available"}]'
                self.send_bytes(200, body, content_type="application/json")

            def send_bytes(self, status: int, data: bytes, *, content_type: str = "application/octet-stream", etag: str | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Last-Modified", LAST_MODIFIED)
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

        self.server = BackgroundServer(Handler)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def serve(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return self.url(f"files/{name}")

    def __enter__(self) -> "BadUpstream":
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.stop()
