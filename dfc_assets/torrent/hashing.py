"""One read of a version file -> any of MD5, SHA-256, v1 piece hashes and the v2 (BEP 52) merkle tree.

The file is taken window by window (a few piece-aligned windows in flight, so memory is flat in file size).
Each window goes to the whole-file streams, one thread each (MD5 and SHA-256 cannot be split), and to a pool
that hashes its pieces, SHA-1 and v2 leaves as separate jobs so that two cores share one window. hashlib
releases the GIL on buffers of 2 KiB and more, so every core hashes at once.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .options import MIB, check_piece_size

BLOCK_SIZE = 16 * 1024  # BEP 52 leaf block
WINDOW_SIZE = 16 * MIB  # smallest window; a window holds whole pieces
ZERO_HASH = bytes(32)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FileDigests:
    size: int
    md5: str | None                 # hex; None when not asked for
    sha256: str | None              # hex; None when not asked for
    piece_size: int
    pieces_v1: bytes | None         # concatenated 20-byte SHA-1 piece hashes
    pieces_root_v2: bytes | None    # 32-byte BEP 52 "pieces root"
    piece_layer_v2: bytes | None    # concatenated 32-byte piece-layer hashes; None when size <= piece_size


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _zero_subtree_hash(leaves: int) -> bytes:
    h = ZERO_HASH
    while leaves > 1:
        h = hashlib.sha256(h + h).digest()
        leaves //= 2
    return h


def merkle_root(hashes: list[bytes], width: int, pad: bytes) -> bytes:
    """Root of a binary SHA-256 tree over `hashes` padded with `pad` to `width` (a power of two) entries."""
    sha256 = hashlib.sha256
    layer = hashes + [pad] * (width - len(hashes))
    while len(layer) > 1:
        layer = [sha256(layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
    return layer[0]


def _sha1_pieces(view: memoryview, piece_size: int) -> bytes:
    sha1 = hashlib.sha1
    return b"".join(sha1(view[start : start + piece_size]).digest() for start in range(0, len(view), piece_size))


def _v2_piece_roots(view: memoryview, piece_size: int, leaf_width: int) -> list[bytes]:
    sha256 = hashlib.sha256
    roots = []
    for start in range(0, len(view), piece_size):
        piece = view[start : start + piece_size]
        leaves = [sha256(piece[b : b + BLOCK_SIZE]).digest() for b in range(0, len(piece), BLOCK_SIZE)]
        roots.append(merkle_root(leaves, leaf_width, ZERO_HASH))
    return roots


class _Window:
    """A piece-aligned stretch of the file shared by its consumers; unmapped when the last one is done."""

    def __init__(self, index: int, view: memoryview, users: int, on_done: Callable[[int], None]) -> None:
        self.index = index
        self.view: memoryview | None = view
        self.length = len(view)
        self._users = users
        self._lock = threading.Lock()
        self._on_done = on_done

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if last:
            self.view = None  # the mapping goes with its last view (jobs' slices are gone by now)
            self._on_done(self.length)


def _stream(h: "hashlib._Hash", windows: "queue.SimpleQueue[_Window | None]", errors: list[BaseException]) -> None:
    while (window := windows.get()) is not None:
        try:
            if not errors:
                h.update(window.view)
        except BaseException as exc:  # keep draining so the reader never waits on a dead consumer
            errors.append(exc)
        finally:
            window.release()


def digest_file(
    path: Path,
    *,
    piece_size: int,
    v1: bool = True,
    v2: bool = True,
    md5: bool = True,
    sha256: bool = True,
    progress: Progress | None = None,
    threads: int | None = None,
) -> FileDigests:
    """Read `path` once; return the asked-for hashes (the others are None). progress(bytes_done, total)."""
    check_piece_size(piece_size)
    if not (v1 or v2 or md5 or sha256):
        raise ValueError("digest_file: nothing to compute (v1, v2, md5 and sha256 are all off)")
    path = Path(path)
    window_size = max(piece_size, WINDOW_SIZE)  # both powers of two, so a window holds whole pieces
    workers = threads or max(1, os.cpu_count() or 1)
    in_flight = threading.BoundedSemaphore(workers + 2)
    errors: list[BaseException] = []
    done = 0
    done_lock = threading.Lock()

    def on_done(length: int) -> None:
        nonlocal done
        with done_lock:
            done += length
        in_flight.release()

    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            raise ValueError(f"{path}: cannot make a torrent of an empty file")
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        single_piece = size <= piece_size
        leaf_width = _next_pow2(-(-size // BLOCK_SIZE)) if single_piece else piece_size // BLOCK_SIZE
        n_windows = -(-size // window_size)
        sha1_parts: list[bytes] = [b""] * n_windows
        root_parts: list[list[bytes]] = [[] for _ in range(n_windows)]

        def sha1_job(window: _Window) -> None:
            try:
                if not errors:
                    sha1_parts[window.index] = _sha1_pieces(window.view, piece_size)
            except BaseException as exc:
                errors.append(exc)
            finally:
                window.release()

        def v2_job(window: _Window) -> None:
            try:
                if not errors:
                    root_parts[window.index] = _v2_piece_roots(window.view, piece_size, leaf_width)
            except BaseException as exc:
                errors.append(exc)
            finally:
                window.release()

        hashes = {name: hashlib.new(name) for name, wanted in (("md5", md5), ("sha256", sha256)) if wanted}
        feeds: list[queue.SimpleQueue[_Window | None]] = [queue.SimpleQueue() for _ in hashes]
        streams = [
            threading.Thread(target=_stream, args=(h, feed, errors), name=f"digest-{name}", daemon=True)
            for (name, h), feed in zip(hashes.items(), feeds)
        ]
        jobs = [job for job, wanted in ((sha1_job, v1), (v2_job, v2)) if wanted]
        users = len(streams) + len(jobs)
        for t in streams:
            t.start()
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest-pieces") as pool:
                for index in range(n_windows):
                    in_flight.acquire()
                    if errors:
                        break
                    offset = index * window_size
                    length = min(window_size, size - offset)
                    if os.fstat(fd).st_size < offset + length:  # a mapping past the end faults the process
                        raise OSError(f"{path}: file shrank while hashing (now below {offset + length} of {size} bytes); retry")
                    window = _Window(index, memoryview(_map(fd, offset, length)), users, on_done)
                    for feed in feeds:
                        feed.put(window)
                    for job in jobs:
                        pool.submit(job, window)
                    del window
                    if progress is not None:
                        progress(done, size)
        finally:
            for feed in feeds:
                feed.put(None)
            for t in streams:
                t.join()
        if errors:
            raise errors[0]
        if os.fstat(fd).st_size != size:
            raise OSError(f"{path}: file changed size while hashing ({size} bytes at the start); retry")
    finally:
        os.close(fd)
    if progress is not None:
        progress(size, size)

    pieces_root = piece_layer = None
    if v2:
        roots = [root for part in root_parts for root in part]
        if single_piece:
            pieces_root = roots[0]
        else:
            piece_layer = b"".join(roots)
            pad = _zero_subtree_hash(piece_size // BLOCK_SIZE)
            pieces_root = merkle_root(roots, _next_pow2(len(roots)), pad)
    return FileDigests(
        size=size,
        md5=hashes["md5"].hexdigest() if md5 else None,
        sha256=hashes["sha256"].hexdigest() if sha256 else None,
        piece_size=piece_size,
        pieces_v1=b"".join(sha1_parts) if v1 else None,
        pieces_root_v2=pieces_root,
        piece_layer_v2=piece_layer,
    )


def _map(fd: int, offset: int, length: int) -> mmap.mmap:
    """Read-only mapping of the page cache, filled up front: no copy into Python buffers."""
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    return mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ, offset=offset)
