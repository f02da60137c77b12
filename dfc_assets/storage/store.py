"""The object store contract shared by the local folder and S3 implementations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dfc_assets.storage.media_types import media_type_for


class ObjectExists(Exception):
    """A write-once key already holds an object with different bytes."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore(Protocol):
    """A bucket. Keys are '/'-separated; write-once keys are written with ``if_absent=True``."""

    def put_file(self, key: str, path: Path, *, if_absent: bool = False, content_type: str | None = None) -> None: ...

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False, content_type: str | None = None) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def download(self, key: str, path: Path) -> Path: ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def list(self, prefix: str) -> list[ObjectInfo]: ...

    def copy(self, source_key: str, dest_key: str) -> None: ...

    def create(self, key: str, data: bytes) -> bool:
        """Atomically write ``key`` only if it does not exist; False when it does (a lock or lease)."""
        ...

    def delete(self, key: str) -> None: ...

    def public_url(self, key: str) -> str: ...

    def describe(self) -> str: ...


def content_type_for(key: str) -> str:
    return media_type_for(key)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()
