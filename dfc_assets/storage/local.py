"""A local folder as the object store (the embedded default); served over HTTP by dfc_assets.services."""

from __future__ import annotations

import filecmp
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from dfc_assets.storage.store import ObjectExists, ObjectInfo


def _check_key(key: str, *, prefix: bool = False) -> str:
    """A key is '/'-separated names: no empty, '.' or '..' segment, no backslash or control character.

    A ``prefix`` (for a URL of a folder, a BEP 19 web seed) may end with '/'.
    """
    segments = key.split("/")
    if prefix and len(segments) > 1 and segments[-1] == "":
        segments.pop()
    if not key or any(s in ("", ".", "..") for s in segments) or any(ord(c) < 32 or c in "\\\x7f" for c in key):
        raise ValueError(f"invalid object key {key!r}")
    return key


class LocalUpload:
    """An object written window by window (any order, several threads at once), visible only once committed."""

    part_size = 16 << 20
    io_threads = 0

    def __init__(self, target: Path, *, if_absent: bool) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target, self.if_absent = target, if_absent
        self._fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".part")
        self._temp = Path(temp)

    def write(self, offset: int, data: memoryview) -> None:
        while data:
            written = os.pwrite(self._fd, data, offset)
            data, offset = data[written:], offset + written

    def commit(self) -> None:
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
            if not self.if_absent:
                os.replace(self._temp, self.target)
                return
            try:
                os.link(self._temp, self.target)  # fails if the key exists: write-once keys are never overwritten
            except FileExistsError:
                if not filecmp.cmp(self._temp, self.target, shallow=False):
                    raise ObjectExists(f"object {self.target.name!r} already exists with different bytes; write-once keys are never overwritten") from None
        finally:
            self.abort()

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._temp.unlink(missing_ok=True)


class LocalFolderStore:
    def __init__(self, root: Path, public_base_url: str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.public_base_url = public_base_url.rstrip("/") + "/"

    def _path(self, key: str) -> Path:
        """The file of a key, inside the folder even where a symlink in the folder points elsewhere."""
        path = self.root / _check_key(key)
        base, resolved = self.root.resolve(), path.resolve()
        if base not in resolved.parents:
            raise ValueError(f"object key {key!r} leads out of the store folder {self.root} (through a symlink)")
        return path

    def _write_atomically(self, key: str, fill) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def _refuse_if_present(self, key: str, same_bytes) -> bool:
        """For write-once keys: True when the identical object is already there, error if different."""
        if not self._path(key).exists():
            return False
        if same_bytes():
            return True
        raise ObjectExists(f"object {key!r} already exists with different bytes; write-once keys are never overwritten")

    def _link_atomically(self, key: str, source: Path) -> bool:
        """A hard link in place of a copy (same filesystem): no byte read or written. Only for objects of this
        store, which are never rewritten in place (written by rename); a caller's file could be, so put_file copies."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".incoming-{target.name}.{secrets.token_hex(8)}.link")
        try:
            os.link(source, temp)
        except OSError:
            return False
        try:
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return True

    def put_file(self, key: str, path: Path, *, if_absent: bool = False, content_type: str | None = None) -> None:
        if if_absent and self._refuse_if_present(key, lambda: filecmp.cmp(path, self._path(key), shallow=False)):
            return
        with open(path, "rb") as source:
            self._write_atomically(key, lambda out: shutil.copyfileobj(source, out, 8 << 20))

    def open_upload(self, key: str, size: int, *, if_absent: bool = False, content_type: str | None = None) -> LocalUpload:
        """An object of ``size`` bytes written in windows at their offsets (``storage.hashed_copy``)."""
        return LocalUpload(self._path(key), if_absent=if_absent)

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False, content_type: str | None = None) -> None:
        if if_absent and self._refuse_if_present(key, lambda: self._path(key).read_bytes() == data):
            return
        self._write_atomically(key, lambda out: out.write(data))

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def download(self, key: str, path: Path) -> Path:
        source = self._path(key)
        if not source.exists():
            raise KeyError(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        return path

    def head(self, key: str) -> ObjectInfo | None:
        target = self._path(key)
        if not target.is_file():
            return None
        return ObjectInfo(key=key, size=target.stat().st_size)

    def list(self, prefix: str) -> list[ObjectInfo]:
        found = []
        base = self.root.resolve()
        folder = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root  # walk only below the prefix
        inside: dict[Path, bool] = {}  # folder -> whether it really is under the root (resolved once a folder, not a file)

        def confined(path: Path) -> bool:
            if path.is_symlink():
                return base in path.resolve().parents
            if path.parent not in inside:
                real = path.parent.resolve()
                inside[path.parent] = real == base or base in real.parents
            return inside[path.parent]

        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith(".incoming-") and confined(path):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(ObjectInfo(key=key, size=path.stat().st_size))
        return found

    def copy(self, source_key: str, dest_key: str) -> None:
        """Objects are immutable once written (write-once keys, or replaced by rename), so a copy is a hard link."""
        if self._link_atomically(dest_key, self._path(source_key)):
            return
        with open(self._path(source_key), "rb") as source:
            self._write_atomically(dest_key, lambda out: shutil.copyfileobj(source, out, 8 << 20))

    def create(self, key: str, data: bytes) -> bool:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.link(temp, target)  # fails if the key exists: the atomic "create if absent" of a filesystem
            return True
        except FileExistsError:
            return False
        finally:
            Path(temp).unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def public_url(self, key: str) -> str:
        return self.public_base_url + _check_key(key, prefix=True)

    def describe(self) -> str:
        return f"local folder {self.root} served at {self.public_base_url}"

