"""sha256 and md5 of a local file in one read (the manifest holds both: STAC and the torrent use sha256, Zenodo md5)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 8 << 20


@dataclass(frozen=True)
class FileDigest:
    size: int
    sha256: str
    md5: str


_KNOWN: dict[tuple[int, int, int, int], FileDigest] = {}
"""Digests of files already read by this process, by (device, inode, size, mtime): a hard link of a file (the
host cache, a store object) is the same file, and files we publish are never rewritten in place."""


def digest_file(path: Path) -> FileDigest:
    stat = os.stat(path)
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if (known := _KNOWN.get(identity)) is not None:
        return known
    digest = _read_digest(path)
    if len(_KNOWN) > 1024:
        _KNOWN.clear()
    _KNOWN[identity] = digest
    return digest


def _read_digest(path: Path) -> FileDigest:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return FileDigest(size, sha256.hexdigest(), md5.hexdigest())
