"""Build and read single-file .torrent files (v1 or hybrid v1+v2) for dataset version files."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libtorrent as lt

from .hashing import FileDigests, Progress, digest_file
from .options import TorrentOptions


@dataclass(frozen=True)
class BuiltTorrent:
    data: bytes                     # the .torrent file
    name: str
    size: int
    piece_size: int
    infohash_v1: str                # hex
    infohash_v2: str | None         # hex (full 32 bytes); None for v1
    web_seeds: tuple[str, ...]
    trackers: tuple[str, ...]
    md5: str | None                 # of the file, hex; None when built with md5=False
    sha256: str | None              # of the file, hex; None when built with sha256=False


@dataclass(frozen=True)
class TorrentInfo:
    """What callers usually need from an existing .torrent."""

    name: str
    size: int
    piece_size: int
    num_pieces: int
    infohash_v1: str | None
    infohash_v2: str | None
    web_seeds: tuple[str, ...]
    trackers: tuple[str, ...]
    comment: str | None
    piece_hashes_v1: tuple[bytes, ...]   # 20-byte SHA-1 per piece (empty for v2-only)

    def piece_range(self, index: int) -> tuple[int, int]:
        """Byte range [start, end) of piece `index` in the file."""
        start = index * self.piece_size
        return start, min(start + self.piece_size, self.size)


def _check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"torrent name {name!r} must be a plain file name (no path separators)")


def info_dict(name: str, digests: FileDigests, options: TorrentOptions) -> dict[bytes, Any]:
    """The info dict, laid out exactly as libtorrent's create_torrent does for one file (no pad files)."""
    _check_name(name)
    if digests.pieces_v1 is None:
        raise ValueError("v1 piece hashes are required (v2-only torrents are not supported)")
    info: dict[bytes, Any] = {
        b"length": digests.size,
        b"name": name.encode(),
        b"piece length": digests.piece_size,
        b"pieces": digests.pieces_v1,
    }
    if options.flavour == "hybrid":
        if digests.pieces_root_v2 is None:
            raise ValueError("a hybrid torrent needs the v2 merkle root; digest the file with v2=True")
        info[b"meta version"] = 2
        info[b"file tree"] = {name.encode(): {b"": {b"length": digests.size, b"pieces root": digests.pieces_root_v2}}}
    if options.source is not None:
        info[b"source"] = options.source.encode()
    return info


def torrent_from_digests(
    name: str, digests: FileDigests, options: TorrentOptions, web_seeds: Sequence[str] = ()
) -> BuiltTorrent:
    info = info_dict(name, digests, options)
    seeds = tuple(web_seeds)
    for url in seeds:
        if "?" in url or "#" in url:
            raise ValueError(
                f"web seed {url!r} has a query string or fragment: libtorrent refuses those on private hosts "
                "and BEP 19 directory URLs break; use the plain file URL or its directory with a trailing slash"
            )
    top: dict[bytes, Any] = {b"info": info}
    if options.trackers:
        top[b"announce"] = options.trackers[0].encode()
        if len(options.trackers) > 1:
            top[b"announce-list"] = [[t.encode()] for t in options.trackers]
    if options.comment is not None:
        top[b"comment"] = options.comment.encode()
    if options.creator is not None:
        top[b"created by"] = options.creator.encode()
    if options.creation_date is not None:
        top[b"creation date"] = options.creation_date
    if options.flavour == "hybrid":  # libtorrent writes the key even when empty (file of one piece)
        layers = digests.piece_layer_v2
        top[b"piece layers"] = {digests.pieces_root_v2: layers} if layers is not None else {}
    if seeds:
        top[b"url-list"] = [u.encode() for u in seeds]  # always a list: some old parsers assume one
    info_bytes = lt.bencode(info)
    return BuiltTorrent(
        data=lt.bencode(top),
        name=name,
        size=digests.size,
        piece_size=digests.piece_size,
        infohash_v1=hashlib.sha1(info_bytes).hexdigest(),
        infohash_v2=hashlib.sha256(info_bytes).hexdigest() if options.flavour == "hybrid" else None,
        web_seeds=seeds,
        trackers=tuple(options.trackers),
        md5=digests.md5,
        sha256=digests.sha256,
    )


def build_torrent(
    path: Path,
    *,
    name: str,
    options: TorrentOptions,
    web_seeds: Sequence[str] = (),
    progress: Progress | None = None,
    md5: bool = True,
    sha256: bool = True,
) -> BuiltTorrent:
    """Single-file torrent of `path` published under `name`, with the file's MD5 and SHA-256 (each unless
    switched off) from the same read."""
    path = Path(path)
    _check_name(name)
    size = path.stat().st_size
    digests = digest_file(
        path, piece_size=options.piece_size_for(size), v1=True, v2=options.flavour == "hybrid",
        md5=md5, sha256=sha256, progress=progress,
    )
    return torrent_from_digests(name, digests, options, web_seeds)


def read_torrent(data: bytes) -> TorrentInfo:
    """Parse a .torrent (ours or anyone's) with libtorrent."""
    try:
        ti = lt.torrent_info(lt.bdecode(data)) if isinstance(data, bytes) else lt.torrent_info(data)
    except Exception as exc:
        raise ValueError(f"not a valid .torrent file: {exc}") from None
    ih = ti.info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else None
    v2 = ih.v2.to_bytes().hex() if ih.has_v2() else None
    hashes = tuple(ti.hash_for_piece(i) for i in range(ti.num_pieces())) if ih.has_v1() else ()
    return TorrentInfo(
        name=ti.name(),
        size=ti.total_size(),
        piece_size=ti.piece_length(),
        num_pieces=ti.num_pieces(),
        infohash_v1=v1,
        infohash_v2=v2,
        web_seeds=tuple(ws["url"] for ws in ti.web_seeds()),
        trackers=tuple(t.url for t in ti.trackers()),
        comment=ti.comment() or None,
        piece_hashes_v1=hashes,
    )


def with_web_seeds(data: bytes, web_seeds: Sequence[str]) -> bytes:
    """The same torrent (same info-hash) listing exactly `web_seeds` in url-list."""
    top = lt.bdecode(data)
    if top is None or b"info" not in top:
        raise ValueError("not a valid .torrent file (no info dict)")
    top.pop(b"url-list", None)
    top.pop(b"httpseeds", None)
    if web_seeds:
        top[b"url-list"] = [u.encode() for u in web_seeds]
    return lt.bencode(top)
