"""libtorrent's own torrent creation, used only as the reference in tests (it holds the GIL while hashing)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import libtorrent as lt


def libtorrent_torrent(
    path: Path,
    *,
    piece_size: int,
    flavour: str,
    web_seeds: Sequence[str] = (),
    trackers: Sequence[str] = (),
    comment: str | None = None,
    creator: str | None = None,
) -> bytes:
    files = lt.list_files(str(path), lambda _: True, lt.create_torrent.no_attributes)
    flags = lt.create_torrent.v1_only if flavour == "v1" else 0
    ct = lt.create_torrent(files, piece_size, flags)
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    for url in web_seeds:
        ct.add_url_seed(url)
    if comment is not None:
        ct.set_comment(comment)
    if creator is not None:
        ct.set_creator(creator)
    ct.set_creation_date(0)
    lt.set_piece_hashes(ct, str(path.parent))
    return lt.bencode(ct.generate())


def libtorrent_folder_torrent(folder: Path, *, piece_size: int, flavour: str, web_seeds: Sequence[str] = ()) -> bytes:
    """libtorrent's torrent of every file in `folder`, files in name order (libtorrent's v1 keeps directory order)."""
    files = sorted(lt.list_files(str(folder), lambda _: True, lt.create_torrent.no_attributes), key=lambda f: f.filename)
    flags = lt.create_torrent.v1_only if flavour == "v1" else 0
    ct = lt.create_torrent(files, piece_size, flags)
    for url in web_seeds:
        ct.add_url_seed(url)
    ct.set_creation_date(0)
    lt.set_piece_hashes(ct, str(folder.parent))
    return lt.bencode(ct.generate())
