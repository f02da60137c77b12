"""What `dfc demo --json` says of every file of every version (issue 13.6), checked against the demo's own store."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from dfc_assets.torrent.metainfo import read_torrent

FILE_FIELDS = {"name", "size", "sha256", "zenodo_url", "release_url"}


def assert_every_file_is_reported(report: dict, workdir: Path) -> None:
    """Each version's `files` are the bytes in the store, and both torrents (`torrent_path`, `torrent_v1_path`) hold
    exactly them; the packaged registry has a multi-file version and a prebuilt (non-Parquet) one."""
    store = workdir / "store"
    for row in report["versions"]:
        what = f"{row['dataset_key']} {row['version']}"
        assert row["files"] and all(FILE_FIELDS <= set(f) for f in row["files"]), what
        for f in row["files"]:
            release = store / urlsplit(f["release_url"]).path.lstrip("/")
            data = release.read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (f["size"], f["sha256"]), (what, f["name"])
            assert release.name == f["name"] and urlsplit(f["zenodo_url"]).path.endswith(f"/files/{f['name']}"), what
        names = sorted(f["name"] for f in row["files"])
        main, v1 = (read_torrent(Path(row[key]).read_bytes()) for key in ("torrent_path", "torrent_v1_path"))
        assert main.infohash_v2 and not v1.infohash_v2 and main.infohash_v1 == row["infohash_v1"], what
        for info in (main, v1):
            assert sorted(tf.file_name for tf in info.data_files) == names, what
    assert any(len(row["files"]) > 1 for row in report["versions"]), "no multi-file version in the demo"
    assert any(not f["name"].endswith(".parquet") for row in report["versions"] if len(row["files"]) == 1
               for f in row["files"]), "no prebuilt version in the demo"
