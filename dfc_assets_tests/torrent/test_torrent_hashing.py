import hashlib
import random
import threading
from pathlib import Path

import pytest

from dfc_assets.torrent.hashing import digest_file
from dfc_assets.torrent.options import KIB, MIB


def _random_file(directory: Path, size: int) -> Path:
    path = directory / "data.bin"
    path.write_bytes(random.Random(size).randbytes(size))
    return path


@pytest.mark.parametrize("size", [1, 5 * MIB, 40 * MIB + 3], ids=["1-byte", "one-window", "several-windows"])
def test_file_hashes_alone_skip_the_torrent(tmp_path, size):
    path = _random_file(tmp_path, size)
    data = path.read_bytes()
    digests = digest_file(path, piece_size=MIB, v1=False, v2=False, md5=True, sha256=True)
    assert (digests.md5, digests.sha256) == (hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest())
    assert digests.pieces_v1 is None and digests.pieces_root_v2 is None and digests.piece_layer_v2 is None
    md5_only = digest_file(path, piece_size=MIB, v1=False, v2=False, sha256=False)
    assert md5_only.md5 == digests.md5 and md5_only.sha256 is None


def test_torrent_only_pieces_equal_the_full_pass_across_windows(tmp_path):
    path = _random_file(tmp_path, 50 * MIB + 12345)  # several 16 MiB windows and a short last one
    full = digest_file(path, piece_size=MIB, threads=3)
    lean = digest_file(path, piece_size=MIB, md5=False, sha256=False, threads=1)
    assert (lean.pieces_v1, lean.pieces_root_v2, lean.piece_layer_v2) == (full.pieces_v1, full.pieces_root_v2, full.piece_layer_v2)
    assert lean.md5 is None and lean.sha256 is None and full.md5 == hashlib.md5(path.read_bytes()).hexdigest()


def test_nothing_to_compute_is_refused(tmp_path):
    with pytest.raises(ValueError, match="nothing to compute"):
        digest_file(_random_file(tmp_path, 10), piece_size=16 * KIB, v1=False, v2=False, md5=False, sha256=False)


def test_a_failing_progress_callback_stops_the_pass_and_leaves_no_threads(tmp_path):
    path = _random_file(tmp_path, 40 * MIB)
    before = set(threading.enumerate())  # not a count: threads of earlier tests (servers' handlers) may end meanwhile

    def progress(done: int, total: int) -> None:
        raise RuntimeError("log sink gone")

    with pytest.raises(RuntimeError, match="log sink gone"):
        digest_file(path, piece_size=MIB, progress=progress, threads=2)
    assert [thread for thread in threading.enumerate() if thread not in before] == []
    assert digest_file(path, piece_size=MIB, v1=False, v2=False, sha256=False).md5 == hashlib.md5(path.read_bytes()).hexdigest()
