"""A file's sha256 and md5 are read once per host: kept on its inode, shared by its hard links, dropped when it changes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from dfc_assets.storage import digests
from dfc_assets.storage.digests import FileDigest, digest_file, known_digest, remember


def test_a_later_process_finds_the_digest_through_a_hard_link_without_reading(tmp_path):
    path = tmp_path / "made.pmtiles"
    path.write_bytes(b"tiles" * 1000)
    digest = digest_file(path)
    assert digest == FileDigest(5000, hashlib.sha256(b"tiles" * 1000).hexdigest(), hashlib.md5(b"tiles" * 1000).hexdigest())
    link = tmp_path / "published.pmtiles"
    os.link(path, link)
    probe = "import sys; from dfc_assets.storage.digests import known_digest; d = known_digest(sys.argv[1]); print(d.sha256 if d else None)"
    out = subprocess.run([sys.executable, "-c", probe, str(link)], capture_output=True, text=True, check=True).stdout.strip()
    assert out == digest.sha256


def test_a_changed_file_is_read_again(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"first")
    remember(path, digest_file(path))
    path.write_bytes(b"other")  # rewritten in place: the size stays, the modification time moves
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1_000_000))
    digests._KNOWN.clear()
    assert known_digest(path) is None
    assert digest_file(path).sha256 == hashlib.sha256(b"other").hexdigest()


def test_a_digest_of_another_size_is_refused(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"12345")
    with pytest.raises(ValueError, match="5 bytes"):
        remember(path, FileDigest(4, "0" * 64, "0" * 32))
