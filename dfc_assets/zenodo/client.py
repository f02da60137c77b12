"""A typed httpx client of Zenodo's legacy deposit API (plus the RDM versions endpoint).

Every request first takes a token from the shared rate limiter (``rate_limit.py``: one budget
per token across threads, processes and hosts) and feeds it each answer's ``X-RateLimit-*`` and
``Retry-After``. A 429 is waited out, not counted as a failure, until ``rate_limit_deadline``
seconds have gone by for that request. Retries: 5xx and connection
errors only for requests that are safe to repeat (GET, PUT, DELETE, the bucket PUT that
overwrites, the get-or-create versions call). A non-idempotent POST (create, publish,
newversion) that fails after it was sent raises ``ZenodoUncertainError``: the caller must
read the state again before retrying. The token is sent in a header only and never
appears in exception text.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from dfc_assets import __version__
from dfc_assets.tls import tls_context
from dfc_assets.zenodo.rate_limit import RateLimitDeadlineError, RateLimiter, rate_limiter_from_environment

DEFAULT_USER_AGENT = f"dfc_assets/{__version__} (+https://dataforcanada.org)"
CHUNK = 1 << 20
UPLOAD_CHUNK = 64 << 10  # as httpx streams files; 1 MiB chunks measured 1.3-1.7x slower (benchmarks/zenodo_upload.py)
RATE_LIMIT_DEADLINE = 3600.0

Progress = Callable[[int, int], None]


class ZenodoError(Exception):
    """Zenodo refused a request or could not be reached; ``status`` is None for transport errors."""

    def __init__(self, message: str, *, status: int | None = None, errors: list | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []
        self.body = body

    def has_message(self, text: str) -> bool:
        messages = [str(self.body.get("message", ""))] if isinstance(self.body, dict) else []
        for error in self.errors:
            if isinstance(error, dict):
                messages += [str(m) for m in error.get("messages", [error.get("message", "")])]
        return any(text in m for m in messages)


class ZenodoUncertainError(ZenodoError):
    """A non-idempotent request failed after it was sent: it may or may not have taken effect."""


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(response: httpx.Response) -> tuple[str, list, Any]:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return (text[:200] or response.reason_phrase), [], None
    if isinstance(body, dict):
        message = str(body.get("message") or body)
        errors = body.get("errors") or []
        if errors:
            details = "; ".join(
                f"{e.get('field')}: {' '.join(e.get('messages') or [e.get('message', '')])}" for e in errors if isinstance(e, dict)
            )
            message = f"{message} ({details})"
        return message, errors, body
    return str(body)[:200], [], body


class ZenodoClient:
    """``base_url`` is the site root, e.g. ``https://zenodo.org`` or ``https://sandbox.zenodo.org``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 60.0,
        user_agent: str = DEFAULT_USER_AGENT,
        max_retries: int = 5,
        upload_timeout: float = 3600.0,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        rate_limiter: RateLimiter | None = None,
        rate_limit_deadline: float = RATE_LIMIT_DEADLINE,
    ) -> None:
        base = base_url.rstrip("/")
        if base.endswith("/api"):
            base = base[: -len("/api")]
        if not token:
            raise ValueError("a Zenodo token is required: set it in the environment (for example DFC_ZENODO_TOKEN)")
        self.base_url = base
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep
        self._owns_rate_limiter = rate_limiter is None
        self.rate_limiter = rate_limiter if rate_limiter is not None else rate_limiter_from_environment(base, token)
        self.rate_limit_deadline = rate_limit_deadline
        self.rate_limited = 0
        self.upload_timeout = httpx.Timeout(upload_timeout, connect=min(timeout, 30.0))
        self._http = httpx.Client(
            base_url=base,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)), verify=tls_context(),
        )

    def __repr__(self) -> str:
        return f"ZenodoClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()
        close_store = getattr(self.rate_limiter.store, "close", None)
        if self._owns_rate_limiter and close_store is not None:
            close_store()

    def __enter__(self) -> "ZenodoClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # transport --------------------------------------------------------------------------
    def _wait(self, attempt: int) -> float:
        return min(30.0, self.backoff * (2 ** attempt)) * (0.5 + random.random() / 2)

    def request(
        self,
        method: str,
        url: str,
        *,
        expected: tuple[int, ...] = (200,),
        idempotent: bool | None = None,
        json: Any = None,
        params: dict | None = None,
        content: Callable[[], Iterator[bytes]] | None = None,
        headers: dict | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        where = f"{method} {httpx.URL(url).path}"
        deadline = time.time() + self.rate_limit_deadline
        attempt = refused = 0
        while True:
            try:
                self.rate_limiter.acquire(deadline, what=f"Zenodo {where}")
            except RateLimitDeadlineError as error:
                told = f" (Zenodo answered it 429 {refused} time{'s' if refused != 1 else ''})" if refused else ""
                raise ZenodoError(f"{error}{told}", status=429) from None
            try:
                response = self._http.request(
                    method, url, json=json, params=params, headers=headers,
                    content=content() if content is not None else None,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as error:
                never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
                reason = f"Zenodo {where} failed: {type(error).__name__}: {error}"
                if not (idempotent or never_sent):
                    raise ZenodoUncertainError(reason + "; it may have taken effect, read the state before retrying") from None
                if attempt >= self.max_retries:
                    raise ZenodoError(f"{reason} (after {attempt + 1} attempts); check the base URL and the network") from None
                self.sleep(self._wait(attempt))
                attempt += 1
                continue
            self.rate_limiter.observe(response.status_code, response.headers)
            if response.status_code in expected:
                return response
            message, errors, body = _describe(response)
            status = response.status_code
            if status == 429:
                self.rate_limited += 1
                refused += 1
                continue
            if status >= 500 and idempotent and attempt < self.max_retries:
                self.sleep(self._wait(attempt))
                attempt += 1
                continue
            text = f"Zenodo {where} answered {status}: {message}"
            if status >= 500 and not idempotent:
                raise ZenodoUncertainError(text + "; it may have taken effect, read the state before retrying",
                                           status=status, errors=errors, body=body)
            if status in (401, 403):
                text += "; check the Zenodo token (and its deposit:write/deposit:actions scopes)"
            raise ZenodoError(text, status=status, errors=errors, body=body)

    # depositions ------------------------------------------------------------------------
    def list_depositions(self, q: str | None = None, *, all_versions: bool = True, page: int = 1,
                         size: int = 100, sort: str = "mostrecent") -> list[dict]:
        params: dict[str, Any] = {"page": page, "size": size, "sort": sort}
        if q:
            params["q"] = q
        if all_versions:
            params["all_versions"] = "true"
        return self.request("GET", "/api/deposit/depositions", params=params).json()

    def create_deposition(self, metadata: dict | None = None) -> dict:
        body = {"metadata": metadata} if metadata is not None else {}
        return self.request("POST", "/api/deposit/depositions", json=body, expected=(201,), idempotent=False).json()

    def get_deposition(self, deposition_id: int) -> dict:
        return self.request("GET", f"/api/deposit/depositions/{deposition_id}").json()

    def update_metadata(self, deposition_id: int, metadata: dict) -> dict:
        """Replace the whole metadata (Zenodo re-applies its defaults to what is missing)."""
        return self.request("PUT", f"/api/deposit/depositions/{deposition_id}", json={"metadata": metadata}).json()

    def delete_deposition(self, deposition_id: int) -> None:
        self.request("DELETE", f"/api/deposit/depositions/{deposition_id}", expected=(201, 204))

    def _action(self, deposition_id: int, action: str, expected: tuple[int, ...]) -> httpx.Response:
        return self.request("POST", f"/api/deposit/depositions/{deposition_id}/actions/{action}",
                            expected=expected, idempotent=False)

    def publish(self, deposition_id: int) -> dict:
        return self._action(deposition_id, "publish", (202,)).json()

    def edit(self, deposition_id: int) -> dict:
        return self._action(deposition_id, "edit", (201,)).json()

    def discard(self, deposition_id: int) -> None:
        self._action(deposition_id, "discard", (201, 204))

    def new_version(self, deposition_id: int) -> dict:
        """Legacy newversion: the new draft (201), files of the latest version copied in. Not idempotent."""
        return self._action(deposition_id, "newversion", (201,)).json()

    def get_or_create_version_draft(self, record_id: int) -> dict:
        """The concept's one new-version draft (RDM ``POST /api/records/{id}/versions``), without files."""
        draft = self.request("POST", f"/api/records/{record_id}/versions", expected=(200, 201), idempotent=True).json()
        return self.get_deposition(int(draft["id"]))

    # files --------------------------------------------------------------------------------
    def list_files(self, deposition_id: int) -> list[dict]:
        return self.request("GET", f"/api/deposit/depositions/{deposition_id}/files").json()

    def delete_file(self, deposition_id: int, file_id: str) -> None:
        """Remove a file from a draft; a file already gone (a retried delete) is fine."""
        try:
            self.request("DELETE", f"/api/deposit/depositions/{deposition_id}/files/{file_id}", expected=(204,))
        except ZenodoError as error:
            if error.status != 404:
                raise

    def upload_file(self, bucket_url: str, path: Path, *, key: str | None = None,
                    progress: Progress | None = None, size: int | None = None,
                    sent: Callable[[bytes | None], None] | None = None) -> dict:
        """Stream ``path`` into the draft's bucket (overwrites the key); the answer has ``checksum: md5:<hex>``.

        The file is read in small chunks as it is sent (never whole in memory); ``sent`` is called with
        None when a body starts (again, on a retry) and then with every chunk sent."""
        path = Path(path)
        size = path.stat().st_size if size is None else size
        key = key or path.name

        def body() -> Iterator[bytes]:
            if sent is not None:
                sent(None)
            done = 0
            with open(path, "rb") as handle:
                while done < size and (chunk := handle.read(min(UPLOAD_CHUNK, size - done))):
                    done += len(chunk)
                    if sent is not None:
                        sent(chunk)
                    yield chunk
                    if progress is not None:
                        progress(done, size)

        url = f"{bucket_url.rstrip('/')}/{quote(key, safe='')}"
        response = self.request(
            "PUT", url, expected=(200, 201), content=body, timeout=self.upload_timeout,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        return response.json()

    def community_exists(self, identifier: str) -> bool:
        try:
            self.request("GET", f"/api/communities/{quote(identifier, safe='')}")
        except ZenodoError as error:
            if error.status == 404:
                return False
            raise
        return True

    # records ------------------------------------------------------------------------------
    def get_record(self, record_id: int | str) -> dict:
        return self.request("GET", f"/api/records/{record_id}").json()

    def list_record_versions(self, record_id: int | str, *, size: int = 100) -> list[dict]:
        body = self.request("GET", f"/api/records/{record_id}/versions", params={"size": size, "page": 1}).json()
        return body["hits"]["hits"]
