"""A static file server over a folder with HTTP/1.1 keep-alive, Range (206/416), ETag and Last-Modified.

It serves the object-store folder (the embedded default's "bucket", a BitTorrent web
seed) and the sample sources. Real servers (nginx, S3) behave the same way for GET/HEAD.
"""

from __future__ import annotations

import email.utils
import mimetypes
import os
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
mimetypes.add_type("application/vnd.apache.parquet", ".parquet")
mimetypes.add_type("application/x-bittorrent", ".torrent")


class Unsatisfiable(Exception):
    """A valid single range that starts past the end: 416 with ``Content-Range: bytes */size``."""


class BadPath(Exception):
    """A request target that cannot name a file in the folder: 400."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """RFC 9110 §14.2: one ``bytes=`` range -> (first, last) inclusive, or None to send the whole file.

    A header that does not parse, names another unit, or asks for several ranges is ignored (the RFC allows a
    server to ignore Range); a valid range that starts at or past the end raises Unsatisfiable.
    """
    match = _RANGE.match((header or "").strip())
    if not match or not any(match.groups()):
        return None
    first_text, last_text = match.groups()
    if not first_text:
        suffix = int(last_text)
        if suffix == 0:
            raise Unsatisfiable()
        if size == 0:
            return None
        return max(size - suffix, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid range-spec: the header is ignored
    if first >= size:
        raise Unsatisfiable()
    return first, min(int(last_text), size - 1) if last_text else size - 1


def confined_file(root: Path, request_target: str) -> Path | None:
    """The regular file a request target names inside ``root`` (symlinks resolved and kept inside), None if absent.

    Raises BadPath for targets that are not a plain path under the root: not starting with one '/', NUL or
    other control characters, backslashes, '.' or '..' segments, empty segments, or a '/' hidden as %2F.
    """
    raw = request_target.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith("/") or raw.startswith("//") or re.search(r"%2f|%5c|%00", raw, re.IGNORECASE):
        raise BadPath(request_target)
    decoded = unquote(raw, errors="strict")
    segments = decoded[1:].split("/")
    if any(ord(c) < 32 or c in "\\\x7f" for c in decoded) or any(s in (".", "..") for s in segments) or "" in segments[:-1]:
        raise BadPath(request_target)
    base = root.resolve()
    target = (base / decoded[1:]).resolve()
    if target != base and base not in target.parents:
        return None  # a symlink out of the folder: as if absent
    return target if target.is_file() else None


class FileServingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dfc-static/1"
    root: Path
    # Headers and body go out in separate writes; without TCP_NODELAY a keep-alive client's delayed ACK adds
    # ~40 ms to every answer (the demo's two WDS calls per table took 90 ms, as the Zenodo emulator once did).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        return

    def do_HEAD(self) -> None:
        self.serve(head_only=True)

    def do_GET(self) -> None:
        self.serve(head_only=False)

    def serve(self, *, head_only: bool) -> None:
        try:
            path = confined_file(self.root, self.path)
        except (BadPath, UnicodeDecodeError):
            self.send_empty(HTTPStatus.BAD_REQUEST)
            return
        self.serve_file(path, head_only=head_only)

    def send_empty(self, status: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def range_applies(self, etag: str, last_modified: str) -> bool:
        """If-Range (RFC 9110 §13.1.5): the range is used only if the validator still matches."""
        condition = self.headers.get("If-Range")
        return condition is None or condition.strip() in (etag, last_modified)

    def serve_file(self, path: Path | None, *, head_only: bool) -> None:
        if path is None:
            self.send_empty(HTTPStatus.NOT_FOUND)
            return
        try:
            handle = open(path, "rb")
        except OSError:
            self.send_empty(HTTPStatus.NOT_FOUND)
            return
        with handle:
            stat = os.fstat(handle.fileno())
            size = stat.st_size
            etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
            last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
            headers = {
                "Accept-Ranges": "bytes",
                "ETag": etag,
                "Last-Modified": last_modified,
                "Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            }
            if self.headers.get("If-None-Match") == etag:
                self.send_empty(HTTPStatus.NOT_MODIFIED, {"ETag": etag})
                return
            first, last, status = 0, size - 1, HTTPStatus.OK
            if self.range_applies(etag, last_modified):
                try:
                    wanted = parse_range(self.headers.get("Range"), size)
                except Unsatisfiable:
                    self.send_empty(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})
                    return
                if wanted is not None:
                    (first, last), status = wanted, HTTPStatus.PARTIAL_CONTENT
                    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(max(last - first + 1, 0)))
            self.end_headers()
            if head_only or size == 0:
                return
            handle.seek(first)
            remaining = last - first + 1
            try:
                while remaining > 0:
                    chunk = handle.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """Clients that hang up (BitTorrent clients do, all the time) are not errors worth a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class BackgroundServer:
    """A threading HTTP server on a background thread; ``port=0`` picks a free port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = QuietThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=handler.__name__, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "BackgroundServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def file_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> BackgroundServer:
    handler = type("ObjectStoreHandler", (FileServingHandler,), {"root": Path(root)})
    return BackgroundServer(handler, host, port)
