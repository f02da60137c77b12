"""Local copies of a version's files, shared by the steps of a run on one host: a content-addressed cache.

The step that makes or downloads a file puts it in ``{cache}/{sha256[:2]}/{sha256}`` (a hard link of the file it
already has, so no second copy on disk); later steps (Zenodo upload, torrent hashing, checks) find it there by the
manifest's sha256 and size instead of downloading it again from the store. An entry is admitted only after its
sha256 was computed from its bytes, and is written by rename, so a present entry of the right size holds those
bytes. A step gets a hard link named as the release file in its own work folder (Zenodo and torrents use the name).

Beside an entry, the torrent hashes computed while the file was copied into the store (``storage.hashed_copy``):
``{sha256}.pieces-{piece_size}.json`` (v1 pieces, v2 tree, md5), and for a version of several files the v1 pieces
of its files end to end, ``{first file's sha256}.contiguous-{piece_size}-{key}.json``. The torrent step builds
from them without reading the files; another host, without them, hashes the files it downloads.

``DFC_CACHE_DIR`` sets the folder (default ``{tmp}/dfc-cache``); it should be on the same filesystem as the scratch
folders, or links become copies. ``evict`` removes a version's files once it is fully published; entries of runs
that never finished are swept when a new entry is admitted, once untouched for ``DFC_CACHE_MAX_AGE_HOURS`` (48).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage.digests import digest_file
from dfc_assets.torrent.hashing import FileDigests
from dfc_assets.transform.manifest import ManifestFile

CACHE_ENV = "DFC_CACHE_DIR"
MAX_AGE_ENV = "DFC_CACHE_MAX_AGE_HOURS"
DEFAULT_MAX_AGE_HOURS = 48.0


class CacheMismatch(RuntimeError):
    """A file downloaded for the cache that is not what the manifest says."""


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "dfc-cache")


def entry_path(sha256: str, root: Path | None = None) -> Path:
    root = root or cache_dir()
    return root / sha256[:2] / sha256


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".incoming-{target.name}-{secrets.token_hex(8)}")
    try:
        try:
            os.link(source, temp)
        except OSError:  # another filesystem
            shutil.copyfile(source, temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def cached(sha256: str, size: int, root: Path | None = None) -> Path | None:
    path = entry_path(sha256, root)
    try:
        return path if path.stat().st_size == size else None
    except FileNotFoundError:
        return None


def admit(path: Path, sha256: str, root: Path | None = None) -> Path:
    """Put a file whose sha256 the caller has just computed from its bytes into the cache (a hard link)."""
    target = entry_path(sha256, root)
    if cached(sha256, path.stat().st_size, root) is None:
        sweep(root)
        _link_or_copy(path, target)
    return target


def sweep(root: Path | None = None, *, max_age_hours: float | None = None, now: float | None = None) -> int:
    """Remove entries whose inode changed last (written or linked) over ``max_age_hours`` ago; returns bytes freed."""
    root = root or cache_dir()
    hours = max_age_hours if max_age_hours is not None else float(os.environ.get(MAX_AGE_ENV) or DEFAULT_MAX_AGE_HOURS)
    limit = (now if now is not None else time.time()) - hours * 3600
    freed = 0
    for entry in root.glob("??/*"):
        try:
            stat = entry.stat()
            if stat.st_ctime < limit:
                entry.unlink()
                freed += stat.st_size
        except FileNotFoundError:
            continue
    return freed


def local_file(f: ManifestFile, workdir: Path, fetch, *, root: Path | None = None) -> tuple[Path, bool]:
    """``workdir/{f.name}``: a link to the cached bytes of ``f``; on a miss ``fetch(path)`` downloads them first.

    Returns the path and whether the cache had it. A download that is not ``f`` (size or sha256) raises
    ``CacheMismatch`` and leaves nothing in the cache."""
    return local_copy(f.name, f.size, f.sha256, workdir, fetch, root=root)


def local_copy(name: str, size: int, sha256: str, workdir: Path, fetch, *, root: Path | None = None) -> tuple[Path, bool]:
    """``local_file`` for any file known by name, size and sha256 (archived upstream files too)."""
    workdir.mkdir(parents=True, exist_ok=True)
    hit = cached(sha256, size, root)
    if hit is None:
        incoming = workdir / f".download-{name}"
        fetch(incoming)
        digest = digest_file(incoming)
        if (digest.size, digest.sha256) != (size, sha256):
            incoming.unlink(missing_ok=True)
            raise CacheMismatch(f"{name}: the store holds {digest.size} bytes with sha256 {digest.sha256}; "
                                f"the manifest says {size} bytes, sha256 {sha256}")
        admit(incoming, sha256, root)
        incoming.unlink()
        hit = entry_path(sha256, root)
        found = False
    else:
        found = True
    target = workdir / name
    if target.exists() or target.is_symlink():
        target.unlink()
    _link_or_copy(hit, target)
    return target, found


def evict(sha256s: Iterable[str], root: Path | None = None) -> int:
    """Remove these entries (by sha256) and the hashes recorded beside them; returns the bytes freed."""
    freed = 0
    for sha256 in sha256s:
        path = entry_path(sha256, root)
        for found in [path, *path.parent.glob(f"{sha256}.*")]:
            try:
                freed += found.stat().st_size
                found.unlink()
            except FileNotFoundError:
                pass
    return freed


def _write_json(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".incoming-{path.name}-{secrets.token_hex(8)}")
    try:
        temp.write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


def _unb64(text: str | None) -> bytes | None:
    return base64.b64decode(text) if text is not None else None


def _pieces_path(sha256: str, piece_size: int, root: Path | None) -> Path:
    return entry_path(sha256, root).with_name(f"{sha256}.pieces-{piece_size}.json")


def record_digests(digests: FileDigests, root: Path | None = None) -> None:
    """Keep the hashes of a file the caller has just read (md5, sha256, v1 pieces, v2 tree) for later steps here."""
    if digests.sha256 is None or digests.md5 is None or digests.pieces_v1 is None:
        raise ValueError("only a file's full digests are recorded (sha256, md5 and v1 pieces)")
    _write_json(_pieces_path(digests.sha256, digests.piece_size, root), {
        "size": digests.size, "sha256": digests.sha256, "md5": digests.md5, "piece_size": digests.piece_size,
        "v1_padded": digests.v1_padded, "pieces_v1": _b64(digests.pieces_v1),
        "last_piece_other_v1": _b64(digests.last_piece_other_v1), "pieces_root_v2": _b64(digests.pieces_root_v2),
        "piece_layer_v2": _b64(digests.piece_layer_v2),
    })


def recorded_digests(sha256: str, size: int, piece_size: int, *, v2: bool, root: Path | None = None) -> FileDigests | None:
    """The hashes recorded for this file at this piece size (with the v2 tree when ``v2``), or None."""
    record = _read_json(_pieces_path(sha256, piece_size, root))
    if record is None or (record["sha256"], record["size"], record["piece_size"]) != (sha256, size, piece_size):
        return None
    digests = FileDigests(
        size=size, md5=record["md5"], sha256=sha256, piece_size=piece_size, pieces_v1=_unb64(record["pieces_v1"]),
        pieces_root_v2=_unb64(record["pieces_root_v2"]), piece_layer_v2=_unb64(record["piece_layer_v2"]),
        v1_padded=record["v1_padded"], last_piece_other_v1=_unb64(record["last_piece_other_v1"]),
    )
    if v2 and size and digests.pieces_root_v2 is None:
        return None
    return digests


def _contiguous_path(files: Sequence[tuple[str, str]], piece_size: int, root: Path | None) -> Path:
    key = hashlib.sha256("".join(f"{name}\0{sha256}\n" for name, sha256 in files).encode()).hexdigest()
    first = files[0][1]
    return entry_path(first, root).with_name(f"{first}.contiguous-{piece_size}-{key}.json")


def record_contiguous(files: Sequence[tuple[str, str]], piece_size: int, pieces: bytes, root: Path | None = None) -> None:
    """The v1 pieces of a version's files end to end; ``files`` are (name, sha256) in name order."""
    _write_json(_contiguous_path(files, piece_size, root), {"piece_size": piece_size, "pieces": _b64(pieces)})


def recorded_contiguous(files: Sequence[tuple[str, str]], piece_size: int, root: Path | None = None) -> bytes | None:
    record = _read_json(_contiguous_path(files, piece_size, root))
    return _unb64(record["pieces"]) if record is not None and record["piece_size"] == piece_size else None


def local_release_file(publisher: Publisher, spec: DatasetSpec, version: str, f: ManifestFile, workdir: Path) -> Path:
    """A release file of a version on local disk for a step: from the host's cache, or downloaded once into it."""
    key = publisher.keys(spec, version).release_file(f.name)
    try:
        path, hit = local_file(f, workdir, lambda incoming: publisher.store.download(key, incoming))
    except CacheMismatch as error:
        raise PublicationError(f"{label(spec, version)}: {key}: {error}") from None
    except KeyError:
        raise PublicationError(f"{label(spec, version)}: {key} is listed in the manifest but missing from the store") from None
    publisher.log(f"{label(spec, version)}: {f.name} {'from the local cache' if hit else 'downloaded from the store into the local cache'}")
    return path
