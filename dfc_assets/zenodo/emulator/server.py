"""The Zenodo emulator: a real HTTP/1.1 server (keep-alive, concurrent) over ``EmulatorState``."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, unquote, urlsplit

from dfc_assets.zenodo.emulator.errors import PERMISSION_DENIED, ApiError
from dfc_assets.zenodo.emulator.faults import Fault, FaultPlan
from dfc_assets.zenodo.emulator.routes import ROUTES, Route, json_response
from dfc_assets.zenodo.emulator.serving import (
    ChunkedReader, ClosableThreadingServer, RateLimiter, Response, reset_connection,
)
from dfc_assets.zenodo.emulator.state import EmulatorState, Limits
from dfc_assets.zenodo.emulator.views import Site

DRAIN_LIMIT = 64 << 20
JSON_BODY_LIMIT = 16 << 20
COMMON_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "Content-Type, ETag, Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
    "x-content-type-options": "nosniff",
    "x-frame-options": "sameorigin",
    "x-xss-protection": "1; mode=block",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "interest-cohort=()",
}
SERVER_ERROR = ("The server encountered an internal error and was unable to complete your request. "
                "Either the server is overloaded or there is an error in the application.")


@dataclass(frozen=True)
class RequestRecord:
    """One answered request, for tests (no query string, so no token)."""

    method: str
    route: str
    status: int | str
    user_agent: str = ""


class Request:
    def __init__(self, handler: "_Handler", method: str, path: str, query: dict[str, str]) -> None:
        self.handler = handler
        self.method = method
        self.path = path
        self.query = query
        self.headers = handler.headers
        self.body_consumed = not self._has_body()
        self.corrupt = False

    def _has_body(self) -> bool:
        return self.content_length not in (None, 0) or self._chunked

    @property
    def _chunked(self) -> bool:
        return "chunked" in (self.headers.get("transfer-encoding") or "").lower()

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    def stream(self) -> BinaryIO:
        self.body_consumed = True
        return ChunkedReader(self.handler.rfile) if self._chunked else self.handler.rfile  # type: ignore[return-value]

    def json(self) -> object:
        if self.body_consumed:
            return None
        length = self.content_length
        if length is not None and length > JSON_BODY_LIMIT:
            raise ApiError(413, "The data value transmitted exceeds the capacity limit.")
        raw = self.stream().read(length if length is not None else JSON_BODY_LIMIT)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ApiError(400, "The browser (or proxy) sent a request that this server could not understand.") from error

    def receive_body(self, state: EmulatorState) -> tuple[str, int, str]:
        length = None if self._chunked else (self.content_length or 0)
        return state.receive_blob(self.stream(), length, corrupt=self.corrupt)

    def drain(self) -> bool:
        """Read and drop an unread body so the connection can be kept; False when too large."""
        if self.body_consumed:
            return True
        length = self.content_length
        if self._chunked or length is None or length > DRAIN_LIMIT:
            return False
        stream = self.stream()
        while length > 0:
            chunk = stream.read(min(length, 1 << 20))
            if not chunk:
                return False
            length -= len(chunk)
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 300
    server: ClosableThreadingServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, delayed ACKs add ~40 ms per answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def app(self) -> "ZenodoEmulator":
        return self.server.app  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        """Silent: the request line may carry ``access_token``."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path.rstrip("/") or "/"
        request = Request(self, method, path, query)
        route, args = self._route(method, path)
        app = self.app
        if route is None:
            status = 405 if args == ("method",) else 404
            message = ("The method is not allowed for the requested URL." if status == 405 else
                       "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.")
            self._finish(request, "unknown", json_response(status, {"status": status, "message": message}), {})
            return
        token = self._token(query)
        authenticated = app.token is None or token == app.token
        limits, exceeded = app.rate_limiter.hit(
            token if authenticated and token else self.client_address[0],
            app.rate_limit if authenticated and token else app.guest_rate_limit,
        )
        if route.auth and not authenticated:
            self._finish(request, route.name, json_response(403, {"status": 403, "message": PERMISSION_DENIED}), limits)
            return
        if exceeded and (route.name != "public_file" or app.enforce_download_rate_limit):
            limit = limits["x-ratelimit-limit"]
            window = app.rate_limiter.window
            per = "1 minute" if window == 60 else f"{window} second{'s' if window != 1 else ''}"
            body = {"status": 429, "message": f"429 Too Many Requests: {limit} per {per}"}
            self._finish(request, route.name, json_response(429, body), limits)
            return
        fault = app.faults.take(route.name)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status == "corrupt":
            request.corrupt = True
            fault = None
        if fault is not None and fault.status is not None and not fault.after:
            self._fault(request, route.name, fault, limits)
            return
        try:
            response = route.handler(app, request, args)
        except ApiError as error:
            response = json_response(error.status, error.body(), error.headers)
        except ConnectionError:
            self.close_connection = True
            return
        if fault is not None and fault.status is not None and fault.after:
            self._fault(request, route.name, fault, limits)
            return
        self._finish(request, route.name, response, limits)

    def _route(self, method: str, path: str) -> tuple[Route | None, tuple[str, ...]]:
        path_matched = False
        for route in ROUTES:
            match = route.pattern.match(path)
            if match:
                path_matched = True
                if method in route.methods:
                    return route, tuple(unquote(g) if g is not None else None for g in match.groups())  # type: ignore[misc]
        return None, ("method",) if path_matched else ()

    def _token(self, query: dict[str, str]) -> str | None:
        header = self.headers.get("authorization") or ""
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return query.get("access_token")

    def _fault(self, request: Request, route: str, fault: Fault, limits: dict[str, str]) -> None:
        if fault.status == "reset":
            self.app.record(RequestRecord(request.method, route, "reset", request.headers.get("user-agent", "")))
            self.close_connection = True
            reset_connection(self.connection)
            return
        status = int(fault.status)  # type: ignore[arg-type]
        if status in (502, 503, 504):
            reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}[status]
            html = f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            response = Response(status, html.encode(), {"content-type": "text/html"})
        elif status == 429:
            body = {"status": 429, "message": "429 Too Many Requests: injected"}
            limits = {**limits, "x-ratelimit-remaining": "0", "retry-after": str(fault.retry_after),
                      "x-ratelimit-reset": str(int(time.time()) + fault.retry_after)}
            response = json_response(429, body)
        elif status >= 500:
            response = json_response(status, {"error_id": uuid.uuid4().hex, "message": SERVER_ERROR, "status": status})
        else:
            response = json_response(status, {"status": status, "message": "Injected fault."})
        self._finish(request, route, response, limits)

    def _finish(self, request: Request, route: str, response: Response, limits: dict[str, str]) -> None:
        if not request.drain():
            self.close_connection = True
        self.app.record(RequestRecord(request.method, route, response.status, request.headers.get("user-agent", "")))
        self.send_response(response.status)
        headers = {**COMMON_HEADERS, **limits, "x-request-id": uuid.uuid4().hex, **response.headers}
        length = response.length if response.file is not None else len(response.body)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(length))
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        if request.method == "HEAD" or response.head:
            return
        if response.file is not None:
            if response.length:
                with open(response.file, "rb") as handle:
                    self.connection.sendfile(handle, response.offset, response.length)
        elif response.body:
            self.wfile.write(response.body)


class ZenodoEmulator:
    """A local Zenodo: the legacy deposit API on the InvenioRDM backend, plus public file URLs.

    ``base_url`` is the site root (``{base_url}/api/...``, ``{base_url}/records/{id}/files/{key}``).
    ``faults`` injects failures per route (see ``faults.py``); ``index_lag`` makes listings
    and version searches lag behind writes; ``requests`` lists answered requests.
    ``rate_limit`` requests per ``rate_limit_window`` seconds per token (Zenodo: 1000 per minute
    as observed in its headers; 133 per minute for guests) are answered, the rest get 429 with
    the real ``x-ratelimit-*`` and ``retry-after`` headers; ``rate_limiter.peak`` tells the most
    requests a client made in one window. ``sandbox`` (the default) mints 10.5072 test DOIs, as
    sandbox.zenodo.org does; ``sandbox=False`` mints 10.5281 ones like zenodo.org.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        token: str | None = "emulator-token",
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: bool = True,
        limits: Limits = Limits(),
        rate_limit: int = 1000,
        rate_limit_window: int = 60,
        guest_rate_limit: int = 133,
        enforce_download_rate_limit: bool = False,
        index_lag: float = 0.0,
        communities: tuple[str, ...] = ("dataforcanada",),
    ) -> None:
        self.data_dir = Path(data_dir)
        self.token = token
        self.host = host
        self.port = port
        self.sandbox = sandbox
        self.rate_limit = rate_limit
        self.guest_rate_limit = guest_rate_limit
        self.enforce_download_rate_limit = enforce_download_rate_limit
        self.communities = set(communities)
        self.state = EmulatorState(self.data_dir, limits, index_lag)
        self.faults = FaultPlan()
        self.rate_limiter = RateLimiter(rate_limit_window)
        self.requests: list[RequestRecord] = []
        self._requests_lock = threading.Lock()
        self._server: ClosableThreadingServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def index_lag(self) -> float:
        return self.state.index_lag

    @index_lag.setter
    def index_lag(self, seconds: float) -> None:
        self.state.index_lag = seconds

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1] if self._server else self.port
        return f"http://{self.host}:{port}"

    @property
    def site(self) -> Site:
        return Site(self.base_url, self.sandbox)

    def record(self, entry: RequestRecord) -> None:
        with self._requests_lock:
            self.requests.append(entry)

    def start(self) -> None:
        if self._server is not None:
            return
        server = ClosableThreadingServer((self.host, self.port), _Handler)
        server.app = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"zenodo-emulator:{self.base_url}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> "ZenodoEmulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
