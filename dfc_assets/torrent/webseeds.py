"""Verify that a mirror serves a torrent's exact bytes the way BitTorrent clients need, before listing it.

A listed mirror with wrong bytes gets banned by libtorrent and makes Transmission re-download forever; one that
ignores Range (200 instead of 206) is unusable for libtorrent and Transmission. So every candidate web seed is
checked: HEAD size, a 206 answer to Range, and SHA-1 of sampled (or all) pieces against the torrent's hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from .metainfo import BuiltTorrent, TorrentInfo, read_torrent, with_web_seeds

SPAN_BYTES = 64 * 1024 * 1024  # full verification reads pieces in spans of about this size


@dataclass(frozen=True)
class WebSeedReport:
    url: str                              # the web seed as listed in url-list
    file_url: str                         # the URL a client fetches (directory form + torrent name)
    ok: bool
    reason: str | None                    # why it must not be listed; None when ok
    size: int | None                      # size the mirror reported
    range_ok: bool                        # answered Range with 206 and a matching Content-Range
    pieces_checked: tuple[int, ...]
    pieces_failed: tuple[int, ...]


class _Unusable(Exception):
    pass


def file_url(web_seed: str, name: str) -> str:
    """BEP 19: a URL ending in '/' is a directory; the client appends the percent-encoded torrent name."""
    return web_seed + quote(name) if web_seed.endswith("/") else web_seed


def sample_pieces(info: TorrentInfo, samples: int, seed: int | str | None = None) -> list[int]:
    """First and last piece plus `samples` others, chosen reproducibly from `seed` (default: the info-hash)."""
    rng = random.Random(seed if seed is not None else (info.infohash_v1 or info.infohash_v2))
    chosen = {0, info.num_pieces - 1}
    middle = range(1, max(1, info.num_pieces - 1))
    chosen.update(rng.sample(middle, min(samples, len(middle))))
    return sorted(chosen)


def _spans(pieces: Sequence[int], info: TorrentInfo, full: bool) -> list[tuple[int, int]]:
    """Group pieces into (first, last) spans; consecutive pieces share a request in full mode."""
    if not full:
        return [(p, p) for p in pieces]
    per_span = max(1, SPAN_BYTES // info.piece_size)
    return [(p, min(p + per_span, info.num_pieces) - 1) for p in range(0, info.num_pieces, per_span)]


def _check_span(client: httpx.Client, url: str, info: TorrentInfo, first: int, last: int) -> list[int]:
    """Fetch pieces first..last in one Range request; return those whose SHA-1 does not match."""
    start, _ = info.piece_range(first)
    _, stop = info.piece_range(last)
    with client.stream("GET", url, headers={"Range": f"bytes={start}-{stop - 1}"}) as resp:
        if resp.status_code == 200:
            raise _Unusable(
                "answered 200 with the whole file to a Range request; BitTorrent clients need 206 Partial Content"
            )
        if resp.status_code != 206:
            raise _Unusable(f"answered {resp.status_code} {resp.reason_phrase} to a Range request")
        expected = f"bytes {start}-{stop - 1}/{info.size}"
        if resp.headers.get("Content-Range", "").replace("bytes=", "bytes ") != expected:
            raise _Unusable(f"Content-Range {resp.headers.get('Content-Range')!r}, expected {expected!r}")
        failed: list[int] = []
        piece, (_, p_stop) = first, info.piece_range(first)
        hasher, pos = hashlib.sha1(), start
        for data in resp.iter_bytes():
            view = memoryview(data)
            while view:
                if pos == stop:
                    raise _Unusable("sent more bytes than the requested range")
                take = min(len(view), p_stop - pos)
                hasher.update(view[:take])
                view, pos = view[take:], pos + take
                if pos == p_stop:
                    if hasher.digest() != info.piece_hashes_v1[piece]:
                        failed.append(piece)
                    if piece < last:
                        piece += 1
                        _, p_stop = info.piece_range(piece)
                        hasher = hashlib.sha1()
        if pos != stop:
            raise _Unusable(f"sent {pos - start} bytes for a {stop - start}-byte range")
    return failed


def verify_web_seed(
    torrent: bytes | TorrentInfo,
    url: str,
    *,
    samples: int = 3,
    full: bool = False,
    seed: int | str | None = None,
    client: httpx.Client | None = None,
    timeout: float = 30.0,
) -> WebSeedReport:
    """Check one web seed: size (HEAD), 206 to Range, and SHA-1 of sampled pieces (all pieces with full=True)."""
    info = torrent if isinstance(torrent, TorrentInfo) else read_torrent(torrent)
    if not info.piece_hashes_v1:
        raise ValueError(f"torrent {info.name!r} has no v1 piece hashes; only v1 and hybrid torrents can be verified")
    target = file_url(url, info.name)
    own_client = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True)
    size: int | None = None
    range_ok = False
    checked: list[int] = []
    failed: list[int] = []

    def report(reason: str | None) -> WebSeedReport:
        return WebSeedReport(url, target, reason is None, reason, size, range_ok, tuple(checked), tuple(failed))

    try:
        if "?" in url or "#" in url:
            raise _Unusable("has a query string or fragment, which libtorrent refuses on private hosts")
        head = http.head(target)
        if head.status_code != 200:
            raise _Unusable(f"HEAD answered {head.status_code} {head.reason_phrase}")
        if "Content-Length" in head.headers:
            size = int(head.headers["Content-Length"])
            if size != info.size:
                raise _Unusable(f"serves {size} bytes, the torrent's file has {info.size}")
        pieces = sample_pieces(info, samples, seed) if not full else list(range(info.num_pieces))
        for first, last in _spans(pieces, info, full):
            failed += _check_span(http, target, info, first, last)
            range_ok = True
            size = info.size
            checked += range(first, last + 1)
        if failed:
            listed = ", ".join(map(str, failed[:10])) + (" …" if len(failed) > 10 else "")
            raise _Unusable(
                f"{len(failed)} of {len(checked)} checked pieces do not match the torrent (pieces {listed}); "
                "the mirror holds different bytes — re-upload the version file there, never overwrite in place"
            )
        return report(None)
    except _Unusable as exc:
        return report(str(exc))
    except httpx.HTTPError as exc:
        return report(f"unreachable: {type(exc).__name__}: {exc}")
    finally:
        if own_client:
            http.close()


def verify_web_seeds(
    torrent: bytes | TorrentInfo,
    urls: Iterable[str],
    *,
    samples: int = 3,
    full: bool = False,
    seed: int | str | None = None,
    timeout: float = 30.0,
) -> list[WebSeedReport]:
    """One report per URL, in order."""
    info = torrent if isinstance(torrent, TorrentInfo) else read_torrent(torrent)
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        return [verify_web_seed(info, u, samples=samples, full=full, seed=seed, client=client) for u in urls]


def audit_web_seeds(torrent: bytes, **kwargs) -> list[WebSeedReport]:
    """Re-verify every web seed a published .torrent lists (for asset checks and scheduled audits)."""
    return verify_web_seeds(torrent, read_torrent(torrent).web_seeds, **kwargs)


def with_verified_web_seeds(
    built: BuiltTorrent, candidates: Iterable[str], **kwargs
) -> tuple[BuiltTorrent, list[WebSeedReport]]:
    """The torrent listing only the candidates that passed verification (same info-hash), plus every report."""
    reports = verify_web_seeds(built.data, candidates, **kwargs)
    good = tuple(r.url for r in reports if r.ok)
    return dataclasses.replace(built, data=with_web_seeds(built.data, good), web_seeds=good), reports
