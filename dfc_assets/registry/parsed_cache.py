"""A large registry YAML is parsed once per content: the validated Registry is kept on disk.

Reading and validating a registry costs about 50 us per dataset entry with the fast YAML reader
(``strict_yaml``) and 0.6 ms with libyaml's, in every process that loads the definitions (the code
server, each step's process); unpickling costs about half the fast figure and pickling about as much
as the fast read. So the first load of a content (a new registry, or an edit) only parses it and leaves a
mark; the second load of a registry file larger than ``MIN_CACHED_BYTES`` pickles the result under ``DFC_CACHE_DIR`` (default ``~/.cache/dfc_assets``),
keyed by the sha256 of the file's bytes and of the loader's own source; any other content or
loader code parses afresh. The folder and file must belong to this user and be writable by no one
else before a pickle is read from them. Errors are never cached (a bad file fails every time).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from functools import cache
from pathlib import Path

CACHE_DIR_ENV = "DFC_CACHE_DIR"
MIN_CACHED_BYTES = 256 * 1024
_LOADER_PACKAGES = ("registry", "sources/kinds")


@cache
def _loader_fingerprint() -> bytes:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in _LOADER_PACKAGES:
        for source in sorted((root / package).glob("*.py")):
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    digest.update(Path(root / "versions.py").read_bytes())
    return digest.digest()


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "dfc_assets")


def _owned_and_private(path: Path) -> bool:
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _entry(data: bytes) -> Path:
    return cache_dir() / f"registry-{hashlib.sha256(_loader_fingerprint() + data).hexdigest()}.pickle"


def read_parsed(data: bytes):
    """The Registry validated earlier from these exact bytes, or None."""
    if len(data) < MIN_CACHED_BYTES:
        return None
    entry = _entry(data)
    try:
        if not (_owned_and_private(entry.parent) and _owned_and_private(entry)):
            return None
        with open(entry, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None


def keep_parsed(data: bytes, registry) -> None:
    """Best effort: the second parse of these bytes keeps the result; a registry that cannot be cached is parsed again."""
    if len(data) < MIN_CACHED_BYTES:
        return
    entry = _entry(data)
    seen = entry.with_suffix(".seen")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _owned_and_private(entry.parent):
            return
        if not seen.exists():
            seen.touch(mode=0o600)
            return
        fd, temp = tempfile.mkstemp(dir=entry.parent, prefix=".registry-", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(registry, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, entry)
        seen.unlink(missing_ok=True)
    except OSError:
        return
