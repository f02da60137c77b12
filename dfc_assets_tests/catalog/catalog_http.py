"""A loopback Range server over a folder that records every request and the body bytes it sent."""

from __future__ import annotations

import threading
from pathlib import Path

from dfc_assets.services.static_files import BackgroundServer, FileServingHandler


class RequestLog:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str | None, int]] = []

    def add(self, method: str, range_header: str | None, body_bytes: int) -> None:
        with self.lock:
            self.requests.append((method, range_header, body_bytes))

    @property
    def body_bytes(self) -> int:
        with self.lock:
            return sum(n for method, _, n in self.requests if method == "GET")

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


def counting_file_server(root: Path) -> tuple[BackgroundServer, RequestLog]:
    log = RequestLog()

    class CountingHandler(FileServingHandler):
        def send_header(self, keyword: str, value: str) -> None:
            if keyword == "Content-Length" and self.command in ("GET", "HEAD"):
                log.add(self.command, self.headers.get("Range"), int(value))
            super().send_header(keyword, value)

        def handle(self) -> None:
            try:
                super().handle()
            except ConnectionResetError:
                pass  # clients close keep-alive connections when they are done

    CountingHandler.root = Path(root)
    return BackgroundServer(CountingHandler), log
