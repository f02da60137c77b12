"""Download an upstream file over HTTP, streamed to disk, fingerprinted on the way, within limits.

``DownloadLimits`` bounds every download: ``max_bytes`` (announced by Content-Length or
counted while streaming), ``total_seconds`` for the whole transfer (a trickling source
is cut off) and ``stall_seconds`` without a byte (a silent server). Defaults come from
``DFC_DOWNLOAD_MAX_BYTES``, ``DFC_DOWNLOAD_TIMEOUT_SECONDS`` and
``DFC_DOWNLOAD_STALL_SECONDS``. A failed download leaves no file behind: bytes go to a
hidden ``.part`` file that becomes the target only when the transfer is complete.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

GIB = 1024**3
MAX_BYTES_ENV = "DFC_DOWNLOAD_MAX_BYTES"
TOTAL_SECONDS_ENV = "DFC_DOWNLOAD_TIMEOUT_SECONDS"
STALL_SECONDS_ENV = "DFC_DOWNLOAD_STALL_SECONDS"


class SourceError(RuntimeError):
    """An upstream source could not be read or does not hold what was expected."""


@dataclass(frozen=True)
class DownloadLimits:
    max_bytes: int = 64 * GIB            # the largest WDS full-table zip is a few GB; its CSV 37.67 GB
    total_seconds: float = 6 * 3600.0    # 64 GiB at 3 MB/s; a slower source is trickling
    stall_seconds: float = 120.0         # no byte at all for this long: the server has gone silent
    connect_seconds: float = 15.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "DownloadLimits":
        env = os.environ if environ is None else environ
        defaults = cls()

        def number(name: str, default: float, kind: type) -> float:
            text = env.get(name)
            if not text:
                return default
            try:
                value = kind(text)
            except ValueError:
                raise SourceError(f"{name}={text!r} is not a number") from None
            if value <= 0:
                raise SourceError(f"{name}={text!r} must be positive")
            return value

        return cls(
            max_bytes=int(number(MAX_BYTES_ENV, defaults.max_bytes, int)),
            total_seconds=number(TOTAL_SECONDS_ENV, defaults.total_seconds, float),
            stall_seconds=number(STALL_SECONDS_ENV, defaults.stall_seconds, float),
        )

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.stall_seconds, connect=min(self.connect_seconds, self.stall_seconds))


@dataclass(frozen=True)
class DownloadedFile:
    url: str
    file_name: str
    path: Path
    sha256: str
    size: int
    etag: str | None
    last_modified: str | None
    retrieved_at: str
    content_type: str | None = None

    def facts(self) -> dict:
        facts = asdict(self)
        facts.pop("path")
        facts.pop("content_type")
        return facts


def file_name_of(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name or name in (".", ".."):
        raise SourceError(f"cannot name the file downloaded from {url}")
    return name


def status_problem(label: str, method: str, url: str, status: int) -> SourceError:
    """The error for a non-200 answer, saying what the status means for the operator."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unknown status"
    if status in (404, 410):
        advice = "the file is not there (any more); check the URL in the registry"
    elif status in (401, 403):
        advice = "upstream refuses access; check the URL in the registry"
    elif status >= 500:
        advice = "upstream is failing; try again later"
    else:
        advice = "expected 200 with the file"
    return SourceError(f"{label}: {method} {url} answered {status} {phrase}; {advice}")


def transport_problem(label: str, url: str, error: httpx.HTTPError, limits: DownloadLimits, received: int | None = None) -> SourceError:
    if isinstance(error, httpx.TooManyRedirects):
        return SourceError(f"{label}: GET {url}: redirect loop or too many redirects ({error}); check the URL in the registry")
    if isinstance(error, httpx.ConnectTimeout):
        return SourceError(f"{label}: GET {url}: could not connect within {limits.timeout().connect:g} s; try again later")
    if isinstance(error, httpx.TimeoutException):
        got = f" after {received} bytes" if received else ""
        return SourceError(f"{label}: GET {url}: timed out: no byte for {limits.stall_seconds:g} s{got} (the server went silent); try again later")
    if isinstance(error, httpx.ConnectError):
        return SourceError(f"{label}: GET {url}: cannot connect ({error}); try again later")
    return SourceError(f"{label}: could not download {url}: {type(error).__name__}: {error}")


def download(
    client: httpx.Client, url: str, dest_dir: Path, *, label: str, log: Callable[[str], None] = lambda m: None,
    limits: DownloadLimits | None = None,
) -> DownloadedFile:
    """Stream ``url`` into ``dest_dir``; ``label`` (dataset and version) goes into every error and progress line."""
    limits = limits or DownloadLimits.from_environ()
    dest_dir.mkdir(parents=True, exist_ok=True)
    name = file_name_of(url)
    target = dest_dir / name
    partial = dest_dir / f".{name}.part"
    digest = hashlib.sha256()
    size = 0
    total = 0
    started = last_report = time.monotonic()
    try:
        with client.stream("GET", url, follow_redirects=True, timeout=limits.timeout()) as response:
            if response.status_code != 200:
                raise status_problem(label, "GET", url, response.status_code)
            encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
            total = 0 if encoded else int(response.headers.get("Content-Length") or 0)
            if total > limits.max_bytes:
                raise SourceError(
                    f"{label}: {url} announces {total} bytes, over the download limit of {limits.max_bytes} bytes "
                    f"(raise {MAX_BYTES_ENV} if this size is expected)"
                )
            with open(partial, "wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    now = time.monotonic()
                    if size > limits.max_bytes:
                        raise SourceError(
                            f"{label}: {url} sent more than the download limit of {limits.max_bytes} bytes; stopped "
                            f"(raise {MAX_BYTES_ENV} if this size is expected)"
                        )
                    if now - started > limits.total_seconds:
                        raise SourceError(
                            f"{label}: {url} is too slow: {size} bytes in {now - started:.1f} s, over the "
                            f"{limits.total_seconds:g} s budget for one download ({TOTAL_SECONDS_ENV}); try again later"
                        )
                    if now - last_report >= 5:
                        last_report = now
                        rate = size / max(now - started, 1e-9) / 1e6
                        share = f"{100 * size / total:.0f}% " if total else ""
                        log(f"{label}: downloading {name}: {share}{size / 1e6:.1f} MB at {rate:.1f} MB/s")
            if total and size != total:
                raise SourceError(f"{label}: {url} ended after {size} of the {total} bytes its Content-Length announced; try again")
            etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            content_type = response.headers.get("Content-Type")
    except httpx.RemoteProtocolError as error:
        partial.unlink(missing_ok=True)
        if total:
            raise SourceError(
                f"{label}: {url} closed the connection after {size} of the {total} bytes its Content-Length announced "
                "(Content-Length mismatch or a cut transfer); try again"
            ) from None
        raise transport_problem(label, url, error, limits, size) from None
    except httpx.HTTPError as error:
        partial.unlink(missing_ok=True)
        raise transport_problem(label, url, error, limits, size) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    elapsed = max(time.monotonic() - started, 1e-9)
    log(f"{label}: downloaded {name}: {size / 1e6:.1f} MB in {elapsed:.1f} s ({size / elapsed / 1e6:.1f} MB/s), sha256 {digest.hexdigest()}")
    return DownloadedFile(
        url=url, file_name=name, path=target, sha256=digest.hexdigest(), size=size, etag=etag,
        last_modified=last_modified, retrieved_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        content_type=content_type,
    )
