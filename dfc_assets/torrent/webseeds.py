"""Verify that a mirror serves a torrent's exact bytes the way BitTorrent clients need, before listing it.

A listed mirror with wrong bytes gets banned by libtorrent and makes Transmission re-download forever; one that
ignores Range (200 instead of 206) is unusable for libtorrent and Transmission. So every candidate web seed is
checked: HEAD size of every file (pad files included: aria2 fetches them), a 206 answer to Range, and SHA-1 of
pieces against the torrent's hashes. Which pieces: all (`full`), a fresh random sample each check, an explicit
list, or the audit's rotating window (`rotating_pieces`), which covers every piece within a bounded cycle.

Every check has an overall deadline (default: `timeout` plus the bytes to read at MIN_RATE): a mirror that
trickles bytes is reported as too slow instead of holding up the torrent step, status, verify or the audit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import secrets
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from dfc_assets.tls import tls_context

from .metainfo import BuiltTorrent, TorrentFile, TorrentInfo, read_torrent, with_web_seeds

SPAN_BYTES = 64 * 1024 * 1024  # consecutive pieces are read in spans of about this size
MIN_RATE = 2_000_000           # bytes/s: the default deadline lets a mirror serve the checked bytes at this rate
MAX_PARALLEL_MIRRORS = 8


@dataclass(frozen=True)
class WebSeedReport:
    url: str                              # the web seed as listed in url-list
    file_url: str                         # the URL a client fetches for the first file (directory form + path)
    ok: bool
    reason: str | None                    # why it must not be listed; None when ok
    size: int | None                      # total size the mirror reported
    range_ok: bool                        # answered Range with 206 and a matching Content-Range
    pieces_checked: tuple[int, ...]
    pieces_failed: tuple[int, ...]


class _Unusable(Exception):
    pass


def file_url(web_seed: str, path: str) -> str:
    """BEP 19: a URL ending in '/' is a directory; the client appends the percent-encoded torrent path
    (the torrent's name for one file, "name/file" for several)."""
    return web_seed + quote(path) if web_seed.endswith("/") else web_seed


def web_seed_file_urls(web_seed: str, info: TorrentInfo) -> dict[str, str]:
    """File name -> the URL a client fetches it from on this web seed (pad files left out)."""
    return {f.file_name: file_url(web_seed, f.path) for f in info.data_files}


def sample_pieces(info: TorrentInfo, samples: int, seed: int | str | None = None) -> list[int]:
    """First and last piece plus `samples` others; a fresh random choice each call unless `seed` is given."""
    rng = random.Random(seed) if seed is not None else random.Random(secrets.randbits(64))
    chosen = {0, info.num_pieces - 1}
    middle = range(1, max(1, info.num_pieces - 1))
    chosen.update(rng.sample(middle, min(samples, len(middle))))
    return sorted(chosen)


def pieces_per_round(info: TorrentInfo, budget_bytes: int) -> int:
    """How many pieces a check of about `budget_bytes` reads (at least one)."""
    return max(1, min(info.num_pieces, budget_bytes // info.piece_size))


def rotating_pieces(info: TorrentInfo, round_number: int, *, budget_bytes: int) -> list[int]:
    """The pieces an audit round checks: a contiguous window of about `budget_bytes` that moves by its own length
    each round, so rounds 0 .. audit_cycle(info, budget_bytes) - 1 together check every piece once."""
    per_round = pieces_per_round(info, budget_bytes)
    start = (round_number % audit_cycle(info, budget_bytes)) * per_round
    return list(range(start, min(start + per_round, info.num_pieces)))


def audit_cycle(info: TorrentInfo, budget_bytes: int) -> int:
    """Rounds of `rotating_pieces` that cover every piece of the torrent."""
    return -(-info.num_pieces // pieces_per_round(info, budget_bytes))


def _runs(pieces: Sequence[int], info: TorrentInfo) -> list[tuple[int, int]]:
    """Sorted pieces grouped into (first, last) runs of consecutive pieces, each at most SPAN_BYTES long."""
    per_span = max(1, SPAN_BYTES // info.piece_size)
    runs: list[tuple[int, int]] = []
    for p in sorted(set(pieces)):
        if runs and p == runs[-1][1] + 1 and p - runs[-1][0] < per_span:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return runs


def _segments(info: TorrentInfo, start: int, stop: int) -> list[tuple[TorrentFile, int, int]]:
    """The torrent bytes [start, stop) as (file, start in file, stop in file), in order."""
    out = []
    for f in info.files:
        lo, hi = max(start, f.offset), min(stop, f.offset + f.size)
        if lo < hi:
            out.append((f, lo - f.offset, hi - f.offset))
    return out


class _Deadline:
    def __init__(self, seconds: float, timeout: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._timeout = timeout

    def request_timeout(self) -> httpx.Timeout:
        left = self._at - time.monotonic()
        if left <= 0:
            raise _TooSlow()
        return httpx.Timeout(min(self._timeout, left))

    def check(self) -> None:
        if time.monotonic() > self._at:
            raise _TooSlow()


class _TooSlow(Exception):
    pass


class _Pieces:
    """SHA-1 of consecutive pieces fed in order; remembers the ones that do not match."""

    def __init__(self, info: TorrentInfo, first: int) -> None:
        self._info = info
        self.piece = first
        self._stop = info.piece_range(first)[1]
        self.pos = info.piece_range(first)[0]
        self._hasher = hashlib.sha1()
        self.failed: list[int] = []
        self.done: list[int] = []

    def feed(self, data: memoryview) -> None:
        while data:
            take = min(len(data), self._stop - self.pos)
            self._hasher.update(data[:take])
            data, self.pos = data[take:], self.pos + take
            if self.pos == self._stop:
                if self._hasher.digest() != self._info.piece_hashes_v1[self.piece]:
                    self.failed.append(self.piece)
                self.done.append(self.piece)
                self.piece += 1
                if self.piece < self._info.num_pieces:
                    self._stop = self._info.piece_range(self.piece)[1]
                self._hasher = hashlib.sha1()


def _fetch(client: httpx.Client, url: str, size: int, lo: int, hi: int, sink: _Pieces, deadline: _Deadline) -> None:
    """Feed bytes [lo, hi) of the file at `url` (of `size` bytes) to `sink` through one Range request."""
    with client.stream("GET", url, headers={"Range": f"bytes={lo}-{hi - 1}"}, timeout=deadline.request_timeout()) as resp:
        if resp.status_code == 200:
            raise _Unusable(
                "answered 200 with the whole file to a Range request; BitTorrent clients need 206 Partial Content"
            )
        if resp.status_code != 206:
            raise _Unusable(f"{url} answered {resp.status_code} {resp.reason_phrase} to a Range request")
        expected = f"bytes {lo}-{hi - 1}/{size}"
        if resp.headers.get("Content-Range", "").replace("bytes=", "bytes ") != expected:
            raise _Unusable(f"{url}: Content-Range {resp.headers.get('Content-Range')!r}, expected {expected!r}")
        got = 0
        for data in resp.iter_bytes():
            deadline.check()
            if got + len(data) > hi - lo:
                raise _Unusable(f"{url} sent more bytes than the requested range")
            sink.feed(memoryview(data))
            got += len(data)
        if got != hi - lo:
            raise _Unusable(f"{url} sent {got} bytes for a {hi - lo}-byte range")


def _chosen_pieces(info: TorrentInfo, samples: int, full: bool, pieces: Sequence[int] | None, seed) -> list[int]:
    if pieces is not None:
        bad = [p for p in pieces if not 0 <= p < info.num_pieces]
        if bad:
            raise ValueError(f"torrent {info.name!r} has {info.num_pieces} pieces; cannot check pieces {bad[:5]}")
        return sorted(set(pieces))
    return list(range(info.num_pieces)) if full else sample_pieces(info, samples, seed)


def default_deadline(info: TorrentInfo, pieces: int, timeout: float) -> float:
    """Seconds a check of `pieces` pieces may take: `timeout` plus the bytes at MIN_RATE."""
    return timeout + pieces * info.piece_size / MIN_RATE


def verify_web_seed(
    torrent: bytes | TorrentInfo,
    url: str,
    *,
    samples: int = 3,
    full: bool = False,
    pieces: Sequence[int] | None = None,
    seed: int | str | None = None,
    client: httpx.Client | None = None,
    timeout: float = 30.0,
    deadline: float | None = None,
) -> WebSeedReport:
    """Check one web seed: every file's size (HEAD), 206 to Range, and SHA-1 of the chosen pieces.

    Pieces: `pieces` if given, else all with full=True, else first, last and `samples` random others (fresh each
    call unless `seed`). `timeout` bounds each request; `deadline` (seconds, default `default_deadline`) the whole
    check.
    """
    info = torrent if isinstance(torrent, TorrentInfo) else read_torrent(torrent)
    if not info.piece_hashes_v1:
        raise ValueError(f"torrent {info.name!r} has no v1 piece hashes; only v1 and hybrid torrents can be verified")
    chosen = _chosen_pieces(info, samples, full, pieces, seed)
    limit = _Deadline(deadline if deadline is not None else default_deadline(info, len(chosen), timeout), timeout)
    target = file_url(url, info.files[0].path)
    own_client = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True, verify=tls_context())
    size: int | None = None
    range_ok = False
    checked: list[int] = []
    failed: list[int] = []

    def report(reason: str | None) -> WebSeedReport:
        return WebSeedReport(url, target, reason is None, reason, size, range_ok, tuple(checked), tuple(failed))

    try:
        if "?" in url or "#" in url:
            raise _Unusable("has a query string or fragment, which libtorrent refuses on private hosts")
        if info.multi_file and not url.endswith("/"):
            raise _Unusable("is not a directory URL ending in '/', which a multi-file torrent's web seed must be (BEP 19)")
        reported = 0
        for f in info.files:
            head = http.head(file_url(url, f.path), timeout=limit.request_timeout())
            if head.status_code != 200:
                raise _Unusable(f"HEAD {file_url(url, f.path)} answered {head.status_code} {head.reason_phrase}")
            if "Content-Length" in head.headers:
                if int(head.headers["Content-Length"]) != f.size:
                    raise _Unusable(f"serves {head.headers['Content-Length']} bytes for {f.path}, the torrent's file has {f.size}")
            reported += f.size
        size = reported
        for first, last in _runs(chosen, info):
            sink = _Pieces(info, first)
            start, stop = info.piece_range(first)[0], info.piece_range(last)[1]
            for f, lo, hi in _segments(info, start, stop):
                _fetch(http, file_url(url, f.path), f.size, lo, hi, sink, limit)
                range_ok = True
            checked += sink.done
            failed += sink.failed
        if failed:
            listed = ", ".join(map(str, failed[:10])) + (" …" if len(failed) > 10 else "")
            raise _Unusable(
                f"{len(failed)} of {len(checked)} checked pieces do not match the torrent (pieces {listed}); "
                "the mirror holds different bytes — re-upload the version files there, never overwrite in place"
            )
        return report(None)
    except _Unusable as exc:
        return report(str(exc))
    except (_TooSlow, httpx.TimeoutException):
        return report(
            f"too slow: the check of {len(chosen)} pieces did not finish within its {limit.seconds:g} s deadline "
            f"({len(checked)} pieces checked); a web seed must serve at least {MIN_RATE / 1e6:g} MB/s"
        )
    except httpx.HTTPError as exc:
        return report(f"unreachable: {type(exc).__name__}: {exc}")
    finally:
        if own_client:
            http.close()


def check_pieces(
    torrent: bytes | TorrentInfo, url: str, pieces: Sequence[int], *, deadline: float | None = None,
    timeout: float = 30.0, client: httpx.Client | None = None,
) -> WebSeedReport:
    """Check exactly `pieces` on one web seed (the audit passes `rotating_pieces(info, round, budget_bytes=…)`)."""
    return verify_web_seed(torrent, url, pieces=pieces, deadline=deadline, timeout=timeout, client=client)


def verify_web_seeds(
    torrent: bytes | TorrentInfo,
    urls: Iterable[str],
    *,
    samples: int = 3,
    full: bool = False,
    pieces: Sequence[int] | None = None,
    seed: int | str | None = None,
    timeout: float = 30.0,
    deadline: float | None = None,
) -> list[WebSeedReport]:
    """One report per URL, in order; the URLs are checked at the same time, each within its own deadline."""
    info = torrent if isinstance(torrent, TorrentInfo) else read_torrent(torrent)
    urls = list(urls)
    if not urls:
        return []
    with httpx.Client(timeout=timeout, follow_redirects=True, verify=tls_context()) as client, \
            ThreadPoolExecutor(min(MAX_PARALLEL_MIRRORS, len(urls)), thread_name_prefix="web-seed-check") as pool:
        futures = [pool.submit(verify_web_seed, info, u, samples=samples, full=full, pieces=pieces, seed=seed,
                               client=client, timeout=timeout, deadline=deadline) for u in urls]
        return [f.result() for f in futures]


AUDIT_BUDGET_BYTES = 4 * 1024**3  # per web seed and audit round: a 27 GB file is covered in 7 rounds


def audit_web_seeds(
    torrent: bytes, *, round_number: int | None = None, budget_bytes: int = AUDIT_BUDGET_BYTES,
    urls: Iterable[str] | None = None, **kwargs,
) -> list[WebSeedReport]:
    """Re-verify every web seed a published .torrent lists (or `urls`), for asset checks and scheduled audits.

    With `round_number`, each web seed is checked on `rotating_pieces(info, round_number, budget_bytes=…)`: the
    rounds 0 .. audit_cycle(info, budget_bytes) - 1 cover every piece (pass e.g. the count of audits so far).
    Otherwise as `verify_web_seeds` (fresh random samples, or full=True).
    """
    info = read_torrent(torrent)
    if round_number is not None:
        kwargs["pieces"] = rotating_pieces(info, round_number, budget_bytes=budget_bytes)
    return verify_web_seeds(info, info.web_seeds if urls is None else urls, **kwargs)


def with_verified_web_seeds(
    built: BuiltTorrent, candidates: Iterable[str], **kwargs
) -> tuple[BuiltTorrent, list[WebSeedReport]]:
    """The torrent listing only the candidates that passed verification (same info-hash), plus every report."""
    reports = verify_web_seeds(built.data, candidates, **kwargs)
    good = tuple(r.url for r in reports if r.ok)
    return dataclasses.replace(built, data=with_web_seeds(built.data, good), web_seeds=good), reports
