"""The dependency lock, ``requirements.lock``: every package pinned with its hashes (``make lock`` writes it).

Manifests record its sha256, so a version says which locked environment built it; ``locked_versions``
reads its pins. Found beside the package in a checkout, or at ``DFC_LOCK_FILE`` (the Docker image).
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import cache
from pathlib import Path

LOCK_FILE_NAME = "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def lock_path() -> Path | None:
    if configured := os.environ.get("DFC_LOCK_FILE"):
        return Path(configured)
    beside_package = Path(__file__).resolve().parent.parent / LOCK_FILE_NAME
    return beside_package if beside_package.is_file() else None


def normalised_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(text: str) -> dict[str, str]:
    """Package name (normalised) -> pinned version, from the text of a lock."""
    return {normalised_name(name): version for name, version in _PIN.findall(text)}


@cache
def lock_facts() -> dict | None:
    """``{"file", "sha256"}`` of the lock this process runs from; None when it has none (an sdist install)."""
    path = lock_path()
    if path is None or not path.is_file():
        return None
    return {"file": LOCK_FILE_NAME, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
