"""HTTP plumbing of the emulator: responses, request bodies, rate limits, a closable threading server."""

from __future__ import annotations

import socket
import sys
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    offset: int = 0
    length: int = 0
    head: bool = False


class ChunkedReader:
    """A file-like reader over a ``Transfer-Encoding: chunked`` request body."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.left = 0
        self.done = False

    def read(self, size: int = -1) -> bytes:
        out = bytearray()
        while not self.done and (size < 0 or len(out) < size):
            if self.left == 0:
                line = self.raw.readline(1024)
                if not line:
                    raise ConnectionError("the chunked body ended early")
                self.left = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if self.left == 0:
                    while self.raw.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    self.done = True
                    break
            want = self.left if size < 0 else min(self.left, size - len(out))
            chunk = self.raw.read(want)
            if not chunk:
                raise ConnectionError("the chunked body ended early")
            out += chunk
            self.left -= len(chunk)
            if self.left == 0:
                self.raw.readline(16)
        return bytes(out)


class RateLimiter:
    """A fixed one-minute window per client, as flask-limiter reports it."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, limit: int) -> tuple[dict[str, str], bool]:
        now = time.time()
        window = int(now // 60) * 60
        with self._lock:
            start, count = self._windows.get(client, (window, 0))
            if start != window:
                start, count = window, 0
            count += 1
            self._windows[client] = (start, count)
        reset = start + 60
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - count)),
            "x-ratelimit-reset": str(reset),
            "retry-after": str(max(1, int(reset - now))),
        }
        return headers, count > limit


def reset_connection(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN, as a dropped proxy connection looks to a client."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class ClosableThreadingServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose ``close_connections`` ends idle keep-alive connections too."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (BitTorrent clients do) is not worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
