"""One read of a version file -> MD5, SHA-256, v1 piece hashes and the v2 (BEP 52) merkle tree.

The reader fills a small fixed pool of buffers; per buffer, a thread for the whole-file MD5, a thread for the
whole-file SHA-256 and a pool for the piece hashes run concurrently. hashlib releases the GIL for buffers
above 2 KiB, so the hashes use every core; memory is the buffer pool, flat in file size.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .options import MIB, check_piece_size

BLOCK_SIZE = 16 * 1024  # BEP 52 leaf block
READ_SIZE = 4 * MIB     # smallest read; a read holds whole pieces
ZERO_HASH = bytes(32)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FileDigests:
    size: int
    md5: str                        # hex
    sha256: str                     # hex
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
    layer = hashes + [pad] * (width - len(hashes))
    while len(layer) > 1:
        layer = [hashlib.sha256(layer[i] + layer[i + 1]).digest() for i in range(0, len(layer), 2)]
    return layer[0]


def _hash_pieces(
    view: memoryview, piece_size: int, v1: bool, v2: bool, leaf_width: int
) -> tuple[list[bytes], list[bytes]]:
    sha1s: list[bytes] = []
    roots: list[bytes] = []
    for start in range(0, len(view), piece_size):
        piece = view[start : start + piece_size]
        if v1:
            sha1s.append(hashlib.sha1(piece).digest())
        if v2:
            leaves = [hashlib.sha256(piece[b : b + BLOCK_SIZE]).digest() for b in range(0, len(piece), BLOCK_SIZE)]
            roots.append(merkle_root(leaves, leaf_width, ZERO_HASH))
    return sha1s, roots


class _Chunk:
    """A filled buffer shared by the three consumers; goes back to the pool when all are done."""

    def __init__(self, buf: bytearray, length: int, on_free: Callable[[bytearray, int], None]) -> None:
        self.buf = buf
        self.view = memoryview(buf)[:length]
        self.length = length
        self._users = 3
        self._lock = threading.Lock()
        self._on_free = on_free

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if last:
            self._on_free(self.buf, self.length)


def _stream_hash(h: "hashlib._Hash", chunks: "queue.Queue[_Chunk | None]", errors: list[BaseException]) -> None:
    while (chunk := chunks.get()) is not None:
        try:
            h.update(chunk.view)
        except BaseException as exc:  # keep draining so the reader never blocks on a dead consumer
            errors.append(exc)
        finally:
            chunk.release()


def digest_file(
    path: Path,
    *,
    piece_size: int,
    v1: bool = True,
    v2: bool = True,
    progress: Progress | None = None,
    threads: int | None = None,
) -> FileDigests:
    """Read `path` once and return its MD5, SHA-256 and torrent piece hashes; progress(bytes_done, total)."""
    check_piece_size(piece_size)
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"{path}: cannot make a torrent of an empty file")

    read_size = max(piece_size, READ_SIZE)  # both powers of two, so a read holds whole pieces
    workers = threads or max(1, os.cpu_count() or 1)
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(workers + 3):
        free.put(bytearray(read_size))

    done = 0
    done_lock = threading.Lock()

    def on_free(buf: bytearray, length: int) -> None:
        nonlocal done
        with done_lock:
            done += length
        free.put(buf)

    single_piece = size <= piece_size
    leaf_width = _next_pow2(-(-size // BLOCK_SIZE)) if single_piece else piece_size // BLOCK_SIZE
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    errors: list[BaseException] = []
    md5_q: queue.Queue[_Chunk | None] = queue.Queue()
    sha_q: queue.Queue[_Chunk | None] = queue.Queue()
    streams = [
        threading.Thread(target=_stream_hash, args=(md5, md5_q, errors), name="digest-md5", daemon=True),
        threading.Thread(target=_stream_hash, args=(sha256, sha_q, errors), name="digest-sha256", daemon=True),
    ]
    for t in streams:
        t.start()
    futures: list[Future[tuple[list[bytes], list[bytes]]]] = []

    def piece_job(chunk: _Chunk) -> tuple[list[bytes], list[bytes]]:
        try:
            return _hash_pieces(chunk.view, piece_size, v1, v2, leaf_width)
        finally:
            chunk.release()

    read = 0
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest-pieces") as pool, open(
            path, "rb", buffering=0
        ) as f:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            while read < size:
                buf = free.get()
                length = _read_full(f, buf, min(read_size, size - read))
                if length == 0:
                    free.put(buf)
                    raise OSError(f"{path}: file shrank while hashing (read {read} of {size} bytes); retry")
                read += length
                chunk = _Chunk(buf, length, on_free)
                md5_q.put(chunk)
                sha_q.put(chunk)
                futures.append(pool.submit(piece_job, chunk))
                if progress is not None:
                    progress(done, size)
            if f.read(1):
                raise OSError(f"{path}: file grew while hashing (more than {size} bytes); retry")
    finally:
        md5_q.put(None)
        sha_q.put(None)
        for t in streams:
            t.join()
    if errors:
        raise errors[0]

    sha1s: list[bytes] = []
    roots: list[bytes] = []
    for fut in futures:
        s, r = fut.result()
        sha1s += s
        roots += r
    if progress is not None:
        progress(size, size)

    pieces_root = piece_layer = None
    if v2:
        if single_piece:
            pieces_root = roots[0]
        else:
            piece_layer = b"".join(roots)
            pad = _zero_subtree_hash(piece_size // BLOCK_SIZE)
            pieces_root = merkle_root(roots, _next_pow2(len(roots)), pad)
    return FileDigests(
        size=size,
        md5=md5.hexdigest(),
        sha256=sha256.hexdigest(),
        piece_size=piece_size,
        pieces_v1=b"".join(sha1s) if v1 else None,
        pieces_root_v2=pieces_root,
        piece_layer_v2=piece_layer,
    )


def _read_full(f, buf: bytearray, want: int) -> int:
    view = memoryview(buf)
    got = 0
    while got < want:
        n = f.readinto(view[got:want])
        if not n:
            break
        got += n
    view.release()
    return got
