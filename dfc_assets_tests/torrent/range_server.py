"""A small loopback HTTP file server for torrent tests: Range/206 (or deliberately not), corruption, logging."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass
class ServerBehaviour:
    honour_range: bool = True                       # False -> answer 200 with the whole body (like http.server)
    corrupt: dict[str, int] = field(default_factory=dict)  # url path -> byte offset whose value is flipped
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range header)
    trickle: float = 0.0                            # > 0: send bodies 512 bytes at a time, this many seconds apart


class RangeServer:
    def __init__(self, root: Path, behaviour: ServerBehaviour | None = None) -> None:
        self.root = Path(root)
        self.behaviour = behaviour or ServerBehaviour()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _serve(self, body: bool) -> None:
                path = unquote(urlsplit(self.path).path)
                rng = self.headers.get("Range")
                server.behaviour.requests.append((self.command, path, rng))
                file = (server.root / path.lstrip("/")).resolve()
                if not file.is_file() or server.root.resolve() not in file.parents:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                size = file.stat().st_size
                start, end, status = 0, size - 1, 200
                if rng and server.behaviour.honour_range:
                    m = _RANGE.match(rng.strip())
                    if not m or (not m[1] and not m[2]):
                        self._unsatisfiable(size)
                        return
                    if m[1]:
                        start, end = int(m[1]), min(int(m[2]) if m[2] else size - 1, size - 1)
                    else:
                        start, end = max(0, size - int(m[2])), size - 1
                    if start >= size or start > end:
                        self._unsatisfiable(size)
                        return
                    status = 206
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(end - start + 1))
                if server.behaviour.honour_range:
                    self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.end_headers()
                if body:
                    self._send_bytes(file, start, end + 1, server.behaviour.corrupt.get(path))

            def _unsatisfiable(self, size: int) -> None:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send_bytes(self, file: Path, start: int, stop: int, bad: int | None) -> None:
                with open(file, "rb") as f:
                    f.seek(start)
                    pos = start
                    try:
                        step = 512 if server.behaviour.trickle else 1 << 20
                        while pos < stop:
                            if server.behaviour.trickle:
                                time.sleep(server.behaviour.trickle)
                            chunk = bytearray(f.read(min(step, stop - pos)))
                            if bad is not None and pos <= bad < pos + len(chunk):
                                chunk[bad - pos] ^= 0xFF
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            pos += len(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> "RangeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
