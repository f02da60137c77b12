"""A static file server over a folder with HTTP/1.1 keep-alive, Range (206/416), ETag and Last-Modified.

It serves the object-store folder (the embedded default's "bucket", a BitTorrent web
seed) and the sample sources. Real servers (nginx, S3) behave the same way for GET/HEAD.
"""

from __future__ import annotations

import email.utils
import mimetypes
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
mimetypes.add_type("application/vnd.apache.parquet", ".parquet")
mimetypes.add_type("application/x-bittorrent", ".torrent")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One 'bytes=' range -> (first, last) inclusive; None when unsatisfiable or malformed."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end


class FileServingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dfc-static/1"
    root: Path

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        return

    def resolve(self, url_path: str) -> Path | None:
        relative = PurePosixPath(unquote(urlsplit(url_path).path)).relative_to("/") if url_path.startswith("/") else None
        if relative is None or any(part in ("..",) for part in relative.parts):
            return None
        target = self.root / relative
        return target if target.is_file() else None

    def do_HEAD(self) -> None:
        self.serve_file(self.resolve(self.path), head_only=True)

    def do_GET(self) -> None:
        self.serve_file(self.resolve(self.path), head_only=False)

    def send_empty(self, status: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def serve_file(self, path: Path | None, *, head_only: bool) -> None:
        if path is None:
            self.send_empty(HTTPStatus.NOT_FOUND)
            return
        stat = path.stat()
        size = stat.st_size
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        }
        if self.headers.get("If-None-Match") == etag:
            self.send_empty(HTTPStatus.NOT_MODIFIED, {"ETag": etag})
            return
        first, last, status = 0, size - 1, HTTPStatus.OK
        range_header = self.headers.get("Range")
        if range_header:
            wanted = parse_range(range_header, size)
            if wanted is None:
                self.send_empty(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {"Content-Range": f"bytes */{size}"})
                return
            (first, last), status = wanted, HTTPStatus.PARTIAL_CONTENT
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(max(last - first + 1, 0)))
        self.end_headers()
        if head_only or size == 0:
            return
        with open(path, "rb") as handle:
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
