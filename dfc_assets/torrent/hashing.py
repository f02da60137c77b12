"""One read of a version file -> any of MD5, SHA-256, v1 piece hashes and the v2 (BEP 52) merkle tree.

A version of several files is read once too (`digest_files`): per file the same hashes (v1 pieces with the
BEP 47 zero padding a hybrid torrent puts after each file), and the v1 pieces of the files laid end to end
without padding (the v1 torrent), as one more chain over the same windows.

The file is mapped window by window straight from the page cache (no copy; a few piece-aligned windows in
flight, so memory is flat in file size). One worker thread per core takes the windows' tasks: the next window
of each whole-file hash (MD5 and SHA-256 cannot be split, so each is a chain) before any piece job (the
SHA-1 pieces and the v2 leaves of a window are separate jobs). hashlib releases the GIL on buffers of 2 KiB
and more, so every core hashes at once. A sink can take each window too (one more job per window): the copy
into the store then costs no second read (`storage.hashed_copy`).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .options import MIB, check_piece_size

BLOCK_SIZE = 16 * 1024  # BEP 52 leaf block
WINDOW_SIZE = 16 * MIB  # smallest window; a window holds whole pieces
ZERO_HASH = bytes(32)

Progress = Callable[[int, int], None]
Sink = Callable[[int, memoryview], None]


@dataclass(frozen=True)
class FileDigests:
    size: int
    md5: str | None                 # hex; None when not asked for
    sha256: str | None              # hex; None when not asked for
    piece_size: int
    pieces_v1: bytes | None         # concatenated 20-byte SHA-1 piece hashes
    pieces_root_v2: bytes | None    # 32-byte BEP 52 "pieces root"; None for an empty file
    piece_layer_v2: bytes | None    # concatenated 32-byte piece-layer hashes; None when size <= piece_size
    v1_padded: bool = False         # pieces_v1 ends with the last piece zero-padded to the piece size (BEP 47)
    last_piece_other_v1: bytes | None = None   # SHA-1 of a short last piece in the other form (padded or not)

    def v1_pieces(self, padded: bool) -> bytes:
        """The v1 piece hashes with the last piece as a single-file torrent has it, or padded (a hybrid of several files)."""
        if self.pieces_v1 is None:
            raise ValueError("these digests have no v1 piece hashes")
        if padded == self.v1_padded or self.size % self.piece_size == 0:
            return self.pieces_v1
        if self.last_piece_other_v1 is None:
            raise ValueError("these digests lack the other form of the last v1 piece")
        return self.pieces_v1[:-20] + self.last_piece_other_v1


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


def _sha1_pieces(view: memoryview, piece_size: int, pad_to: int = 0) -> tuple[bytes, bytes | None]:
    """SHA-1 of each piece of `view`; a short last piece is hashed with zeros up to `pad_to` bytes (BEP 47).

    Also the SHA-1 of a short last piece in the other form (zero-padded to the piece size when `pad_to` is 0,
    else as it is); None when no piece is short."""
    sha1 = hashlib.sha1
    hashes = [sha1(view[start : start + piece_size]) for start in range(0, len(view), piece_size)]
    short = len(view) % piece_size
    other = None
    if short:
        padded = hashes[-1].copy()
        padded.update(bytes(piece_size - short))
        if pad_to:
            other, hashes[-1] = hashes[-1].digest(), padded
        else:
            other = padded.digest()
    return b"".join(h.digest() for h in hashes), other


class ContiguousPieces:
    """v1 piece hashes of several files laid end to end with no padding (a plain v1 multi-file torrent).

    Fed every byte in order (one chain across the files); pieces cross file boundaries.
    """

    def __init__(self, piece_size: int) -> None:
        check_piece_size(piece_size)
        self.piece_size = piece_size
        self._hasher = hashlib.sha1()
        self._filled = 0
        self._pieces: list[bytes] = []

    def update(self, view: memoryview) -> None:
        while view:
            take = min(len(view), self.piece_size - self._filled)
            self._hasher.update(view[:take])
            view, self._filled = view[take:], self._filled + take
            if self._filled == self.piece_size:
                self._pieces.append(self._hasher.digest())
                self._hasher, self._filled = hashlib.sha1(), 0

    def finish(self) -> bytes:
        if self._filled:
            self._pieces.append(self._hasher.digest())
            self._hasher, self._filled = hashlib.sha1(), 0
        return b"".join(self._pieces)


def _v2_piece_roots(view: memoryview, piece_size: int, leaf_width: int) -> list[bytes]:
    sha256 = hashlib.sha256
    roots = []
    for start in range(0, len(view), piece_size):
        piece = view[start : start + piece_size]
        leaves = [sha256(piece[b : b + BLOCK_SIZE]).digest() for b in range(0, len(piece), BLOCK_SIZE)]
        roots.append(merkle_root(leaves, leaf_width, ZERO_HASH))
    return roots


class _Window:
    """A mapped, piece-aligned stretch of the file; unmapped when its last task is done."""

    def __init__(self, index: int, view: memoryview, users: int) -> None:
        self.index = index
        self.view: memoryview | None = view
        self.length = len(view)
        self.users = users


Task = Callable[["_Window"], None]


class _Tasks:
    """The hashing tasks of the windows in flight, handed to workers longest chain first.

    A whole-file hash is a chain (window after window, one at a time); MD5's is the longest of all. Workers
    take the next link of a chain before any piece job, so the chains never wait behind parallel work and the
    run ends with at most about one task per core: critical-path list scheduling, one worker per core.
    """

    def __init__(self, chains: list[Task], piece_jobs: list[Task], on_done: Callable[[int], None]) -> None:
        self._chains = chains
        self._chain_next = [0] * len(chains)
        self._chain_busy = [False] * len(chains)
        self._piece_jobs = piece_jobs
        self._jobs: deque[tuple[Task, _Window]] = deque()
        self._windows: dict[int, _Window] = {}
        self._closed = False
        self._cond = threading.Condition()
        self._on_done = on_done
        self.errors: list[BaseException] = []
        self.users = len(chains) + len(piece_jobs)

    def add(self, window: _Window) -> None:
        with self._cond:
            self._windows[window.index] = window
            self._jobs.extend((job, window) for job in self._piece_jobs)
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _take(self) -> tuple[Task, _Window, int | None] | None:
        for chain, task in enumerate(self._chains):
            if not self._chain_busy[chain] and (window := self._windows.get(self._chain_next[chain])) is not None:
                self._chain_busy[chain] = True
                return task, window, chain
        if self._jobs:
            job, window = self._jobs.popleft()
            return job, window, None
        return None

    def work(self) -> None:
        while True:
            with self._cond:
                while (taken := self._take()) is None:
                    if self._closed and not self._windows:
                        return
                    self._cond.wait()
            task, window, chain = taken
            try:
                if not self.errors:
                    task(window)
            except BaseException as exc:  # keep consuming so the reader never waits on a dead worker
                self.errors.append(exc)
            with self._cond:
                if chain is not None:
                    self._chain_busy[chain] = False
                    self._chain_next[chain] += 1
                window.users -= 1
                if window.users == 0:
                    del self._windows[window.index]
                    window.view = None  # the mapping goes with its last view
                    self._on_done(window.length)
                self._cond.notify_all()


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
    pad_last_piece: bool = False,
    contiguous: ContiguousPieces | None = None,
    sink: Sink | None = None,
    window_size: int = WINDOW_SIZE,
    io_threads: int = 0,
) -> FileDigests:
    """Read `path` once; return the asked-for hashes (the others are None). progress(bytes_done, total).

    pad_last_piece: the last v1 piece is hashed with zeros up to the piece size (a file followed by a BEP 47 pad
    file). contiguous: also feed every byte, in order, to this chain of end-to-end v1 pieces.
    sink(offset, view): also called once per window, in any order and from several threads at once, with the
    window's bytes (a copy into a store while the bytes are hashed: `storage.hashed_copy`); windows are at least
    `window_size` bytes (a power of two) and hold whole pieces. io_threads: workers added for a sink that waits
    on the network. An empty file is digested without a sink call (there is no byte to write).

    `threads` workers (default: one per usable core). The file must not be truncated while it is hashed: its pages
    are mapped, and touching a page cut off the end faults the process (version files are written once).
    """
    check_piece_size(piece_size)
    if not (v1 or v2 or md5 or sha256 or contiguous or sink):
        raise ValueError("digest_file: nothing to compute (v1, v2, md5 and sha256 are all off)")
    check_piece_size(window_size)
    path = Path(path)
    window_size = max(piece_size, window_size)  # both powers of two, so a window holds whole pieces
    workers = (threads or _usable_cores()) + io_threads
    in_flight = threading.BoundedSemaphore(workers + 1)
    done = 0

    def on_done(length: int) -> None:  # under the tasks' lock
        nonlocal done
        done += length
        in_flight.release()

    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return _empty_digests(piece_size, v1=v1, v2=v2, md5=md5, sha256=sha256, pad_last_piece=pad_last_piece)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        single_piece = size <= piece_size
        leaf_width = _next_pow2(-(-size // BLOCK_SIZE)) if single_piece else piece_size // BLOCK_SIZE
        n_windows = -(-size // window_size)
        sha1_parts: list[bytes] = [b""] * n_windows
        last_other: list[bytes | None] = [None]
        root_parts: list[list[bytes]] = [[] for _ in range(n_windows)]
        file_hashes = {name: hashlib.new(name) for name, wanted in (("md5", md5), ("sha256", sha256)) if wanted}

        def sha1_job(window: _Window) -> None:
            last = window.index == n_windows - 1
            sha1_parts[window.index], other = _sha1_pieces(window.view, piece_size, piece_size if pad_last_piece and last else 0)
            if last:
                last_other[0] = other

        def sink_job(window: _Window) -> None:
            sink(window.index * window_size, window.view)  # type: ignore[misc]

        def v2_job(window: _Window) -> None:
            root_parts[window.index] = _v2_piece_roots(window.view, piece_size, leaf_width)

        def chain(h: "hashlib._Hash") -> Task:
            return lambda window: h.update(window.view)

        chains = [chain(h) for h in file_hashes.values()]
        if contiguous is not None:
            chains.append(lambda window: contiguous.update(window.view))
        tasks = _Tasks(
            chains=chains,
            piece_jobs=[job for job, wanted in ((sink_job, sink is not None), (sha1_job, v1), (v2_job, v2)) if wanted],
            on_done=on_done,
        )
        pool = [threading.Thread(target=tasks.work, name=f"digest-{i}", daemon=True) for i in range(workers)]
        for t in pool:
            t.start()
        try:
            for index in range(n_windows):
                in_flight.acquire()
                if tasks.errors:
                    break
                offset = index * window_size
                length = min(window_size, size - offset)
                if os.fstat(fd).st_size < offset + length:  # touching a mapping past the end faults the process
                    raise OSError(f"{path}: file shrank while hashing (now below {offset + length} of {size} bytes); retry")
                tasks.add(_Window(index, memoryview(_map(fd, offset, length)), tasks.users))
                if progress is not None:
                    progress(done, size)
        except BaseException as exc:
            tasks.errors.append(exc)  # the workers skip what is left
            raise
        finally:
            tasks.close()
            for t in pool:
                t.join()
        if tasks.errors:
            raise tasks.errors[0]
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
        md5=file_hashes["md5"].hexdigest() if md5 else None,
        sha256=file_hashes["sha256"].hexdigest() if sha256 else None,
        piece_size=piece_size,
        pieces_v1=b"".join(sha1_parts) if v1 else None,
        pieces_root_v2=pieces_root,
        piece_layer_v2=piece_layer,
        v1_padded=pad_last_piece and v1,
        last_piece_other_v1=last_other[0] if v1 else None,
    )


def _empty_digests(piece_size: int, *, v1: bool, v2: bool, md5: bool, sha256: bool, pad_last_piece: bool) -> FileDigests:
    """An empty file: no piece, no v2 tree (libtorrent lists it in the file tree by its length alone)."""
    return FileDigests(
        size=0, md5=hashlib.md5(b"").hexdigest() if md5 else None, sha256=hashlib.sha256(b"").hexdigest() if sha256 else None,
        piece_size=piece_size, pieces_v1=b"" if v1 else None, pieces_root_v2=None, piece_layer_v2=None,
        v1_padded=pad_last_piece and v1,
    )


@dataclass(frozen=True)
class VersionDigests:
    files: tuple[FileDigests, ...]          # in the order given
    contiguous_v1: bytes | None             # v1 pieces of the files end to end, unpadded; None when not asked for


def digest_files(
    paths: Sequence[Path],
    *,
    piece_size: int,
    v1_padded: bool = True,
    contiguous_v1: bool = False,
    v2: bool = True,
    md5: bool = True,
    sha256: bool = True,
    progress: Progress | None = None,
    threads: int | None = None,
) -> VersionDigests:
    """Each file read once, in order: per-file hashes (v1 pieces padded after every file, as in a hybrid
    multi-file torrent) and, with contiguous_v1, the pieces of the files end to end (a v1 multi-file torrent)."""
    paths = [Path(p) for p in paths]
    sizes = [p.stat().st_size for p in paths]
    total = sum(sizes)
    stream = ContiguousPieces(piece_size) if contiguous_v1 else None
    results = []
    before = 0
    for path, size in zip(paths, sizes):
        def each(done: int, _: int, before: int = before) -> None:
            if progress is not None:
                progress(before + done, total)

        results.append(digest_file(
            path, piece_size=piece_size, v1=v1_padded, v2=v2, md5=md5, sha256=sha256, progress=each,
            threads=threads, pad_last_piece=v1_padded, contiguous=stream,
        ))
        before += size
    return VersionDigests(tuple(results), stream.finish() if stream is not None else None)


def _usable_cores() -> int:
    """Cores this process may run on (a CPU-pinned container has fewer than the machine)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _map(fd: int, offset: int, length: int) -> mmap.mmap:
    """Read-only mapping of the page cache, filled up front: no copy into Python buffers."""
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    return mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ, offset=offset)
