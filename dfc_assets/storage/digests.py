"""sha256 and md5 of a local file in one read (the manifest holds both: STAC and the torrent use sha256, Zenodo md5).

A file read once is not read again for its digest, in this process or in a later step on this host: the digest
is kept by the file's identity and in an extended attribute of its inode (``user.dfc.digest``, with its size and
modification time), which hard links share (the host cache, a prebuilt file under its published name). A file
system without user attributes just reads the file again.
"""

from __future__ import annotations

import hashlib
import json
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


XATTR = "user.dfc.digest"


def digest_file(path: Path) -> FileDigest:
    known = known_digest(path)
    if known is not None:
        return known
    digest = _read_digest(path)
    remember(path, digest)
    return digest


def known_digest(path: Path) -> FileDigest | None:
    """The digest of a file already read (this process or, through its inode's attribute, an earlier step); None
    when it must be read."""
    stat = os.stat(path)
    identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if (known := _KNOWN.get(identity)) is not None:
        return known
    try:
        record = json.loads(os.getxattr(path, XATTR))
    except (OSError, AttributeError, ValueError):
        return None
    if (record.get("size"), record.get("mtime_ns")) != (stat.st_size, stat.st_mtime_ns):
        return None
    digest = FileDigest(stat.st_size, record["sha256"], record["md5"])
    _KNOWN[identity] = digest
    return digest


def remember(path: Path, digest: FileDigest) -> None:
    """Keep the digest the caller has just computed from the file's bytes (a copy that hashed them, a read)."""
    stat = os.stat(path)
    if stat.st_size != digest.size:
        raise ValueError(f"{path} has {stat.st_size} bytes, its digest says {digest.size}")
    if len(_KNOWN) > 1024:
        _KNOWN.clear()
    _KNOWN[(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)] = digest
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.sha256, "md5": digest.md5}
    try:
        os.setxattr(path, XATTR, json.dumps(record).encode())
    except (OSError, AttributeError):
        pass  # no user attributes here: a later process reads the file again


def _read_digest(path: Path) -> FileDigest:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return FileDigest(size, sha256.hexdigest(), md5.hexdigest())
