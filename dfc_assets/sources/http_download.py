"""Download an upstream file over HTTP, streamed to disk, fingerprinted on the way."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx


class SourceError(RuntimeError):
    """An upstream source could not be read or does not hold what was expected."""


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

    def facts(self) -> dict:
        facts = asdict(self)
        facts.pop("path")
        return facts


def file_name_of(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name or name in (".", ".."):
        raise SourceError(f"cannot name the file downloaded from {url}")
    return name


def download(client: httpx.Client, url: str, dest_dir: Path, *, label: str, log: Callable[[str], None] = lambda m: None) -> DownloadedFile:
    """Stream ``url`` into ``dest_dir``; ``label`` (dataset and version) goes into every error and progress line."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    name = file_name_of(url)
    target = dest_dir / name
    partial = dest_dir / f".{name}.part"
    digest = hashlib.sha256()
    size = 0
    started = last_report = time.monotonic()
    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code != 200:
                raise SourceError(f"{label}: GET {url} answered {response.status_code}; expected 200 with the file")
            total = int(response.headers.get("Content-Length") or 0)
            with open(partial, "wb") as out:
                for chunk in response.iter_bytes(1 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    now = time.monotonic()
                    if now - last_report >= 5:
                        last_report = now
                        rate = size / max(now - started, 1e-9) / 1e6
                        share = f"{100 * size / total:.0f}% " if total else ""
                        log(f"{label}: downloading {name}: {share}{size / 1e6:.1f} MB at {rate:.1f} MB/s")
            if total and size != total:
                raise SourceError(f"{label}: {url} ended after {size} of {total} bytes; try again")
            etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    except httpx.HTTPError as error:
        partial.unlink(missing_ok=True)
        raise SourceError(f"{label}: could not download {url}: {error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    elapsed = max(time.monotonic() - started, 1e-9)
    log(f"{label}: downloaded {name}: {size / 1e6:.1f} MB in {elapsed:.1f} s ({size / elapsed / 1e6:.1f} MB/s), sha256 {digest.hexdigest()}")
    return DownloadedFile(
        url=url, file_name=name, path=target, sha256=digest.hexdigest(), size=size, etag=etag,
        last_modified=last_modified, retrieved_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
