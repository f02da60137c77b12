"""Build and read .torrent files (v1 or hybrid v1+v2) for dataset versions: one file, or several in a folder.

Several files: the torrent is named after the folder that holds them (BEP 19 web seeds then serve
`{base}{name}/{file}`). Files are in name order. A hybrid lays them out as libtorrent 2.1 does (BEP 47 pad file
`.pad/{N}` after every file that does not end on a piece boundary, the last one included); a v1 torrent lays
them end to end with no pad files, for clients without BEP 47 (Transmission 3, aria2).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libtorrent as lt

from .hashing import FileDigests, Progress, VersionDigests, digest_file, digest_files
from .options import TorrentOptions


@dataclass(frozen=True)
class BuiltTorrent:
    data: bytes                     # the .torrent file
    name: str
    size: int
    piece_size: int
    infohash_v1: str                # hex
    infohash_v2: str | None         # hex (full 32 bytes); None for v1
    web_seeds: tuple[str, ...]
    trackers: tuple[str, ...]
    md5: str | None                 # of the file, hex; None when built with md5=False (or several files)
    sha256: str | None              # of the file, hex; None when built with sha256=False (or several files)
    files: tuple["TorrentFile", ...] = ()   # every file, pad files included, in torrent order

    @property
    def data_size(self) -> int:
        """Bytes of the version's files (`size` counts the hybrid's pad files too, as libtorrent does)."""
        return sum(f.size for f in self.files if not f.pad) if self.files else self.size


@dataclass(frozen=True)
class TorrentFile:
    """One file of a torrent, at `offset` in the torrent's byte stream."""

    path: str                       # as a client requests it below a web seed directory: "name" or "name/file"
    offset: int
    size: int
    pad: bool = False               # a BEP 47 pad file (zeros)

    @property
    def file_name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TorrentInfo:
    """What callers usually need from an existing .torrent."""

    name: str
    size: int
    piece_size: int
    num_pieces: int
    infohash_v1: str | None
    infohash_v2: str | None
    web_seeds: tuple[str, ...]
    trackers: tuple[str, ...]
    comment: str | None
    piece_hashes_v1: tuple[bytes, ...]   # 20-byte SHA-1 per piece (empty for v2-only)
    files: tuple[TorrentFile, ...] = ()  # every file, pad files included; one entry for a single-file torrent
    multi_file: bool = False

    @property
    def data_files(self) -> tuple[TorrentFile, ...]:
        """The files a version holds (no pad files)."""
        return tuple(f for f in self.files if not f.pad)

    @property
    def data_size(self) -> int:
        """Bytes of the version's files (`size` counts the hybrid's pad files too)."""
        return sum(f.size for f in self.data_files) if self.files else self.size

    def piece_range(self, index: int) -> tuple[int, int]:
        """Byte range [start, end) of piece `index` in the file."""
        start = index * self.piece_size
        return start, min(start + self.piece_size, self.size)


def _check_name(name: str) -> None:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"torrent name {name!r} must be a plain file name (no path separators)")


def info_dict(name: str, digests: FileDigests, options: TorrentOptions) -> dict[bytes, Any]:
    """The info dict, laid out exactly as libtorrent's create_torrent does for one file (no pad files)."""
    _check_name(name)
    if digests.pieces_v1 is None:
        raise ValueError("v1 piece hashes are required (v2-only torrents are not supported)")
    if digests.size == 0:
        raise ValueError(f"{name}: cannot make a torrent of an empty file")
    info: dict[bytes, Any] = {
        b"length": digests.size,
        b"name": name.encode(),
        b"piece length": digests.piece_size,
        b"pieces": digests.v1_pieces(padded=False),
    }
    if options.flavour == "hybrid":
        if digests.pieces_root_v2 is None:
            raise ValueError("a hybrid torrent needs the v2 merkle root; digest the file with v2=True")
        info[b"meta version"] = 2
        info[b"file tree"] = {name.encode(): {b"": {b"length": digests.size, b"pieces root": digests.pieces_root_v2}}}
    if options.source is not None:
        info[b"source"] = options.source.encode()
    return info


def torrent_from_digests(
    name: str, digests: FileDigests, options: TorrentOptions, web_seeds: Sequence[str] = ()
) -> BuiltTorrent:
    info = info_dict(name, digests, options)
    seeds = tuple(web_seeds)
    _check_web_seeds(seeds, multi_file=False)
    layers = None
    if options.flavour == "hybrid":
        layers = {digests.pieces_root_v2: digests.piece_layer_v2} if digests.piece_layer_v2 is not None else {}
    data, info_bytes = _metainfo(info, options, seeds, layers)
    return BuiltTorrent(
        data=data,
        name=name,
        size=digests.size,
        piece_size=digests.piece_size,
        infohash_v1=hashlib.sha1(info_bytes).hexdigest(),
        infohash_v2=hashlib.sha256(info_bytes).hexdigest() if options.flavour == "hybrid" else None,
        web_seeds=seeds,
        trackers=tuple(options.trackers),
        md5=digests.md5,
        sha256=digests.sha256,
        files=(TorrentFile(name, 0, digests.size),),
    )


def _check_file_names(names: Sequence[str]) -> None:
    for name in names:
        _check_name(name)
    if list(names) != sorted(set(names)):
        raise ValueError(f"files of a multi-file torrent must be distinct and in name order, got {list(names)}")


def multi_file_info_dict(
    name: str, files: Sequence[tuple[str, FileDigests]], options: TorrentOptions, contiguous_v1: bytes | None = None
) -> tuple[dict[bytes, Any], tuple[TorrentFile, ...]]:
    """The info dict of several files in the folder `name`, and its file list (offsets, pad files).

    hybrid: each file's digests must have v1 pieces padded after the file and its v2 tree; v1: `contiguous_v1` are
    the pieces of the files end to end.
    """
    _check_name(name)
    _check_file_names([f for f, _ in files])
    piece_size = files[0][1].piece_size
    if any(d.piece_size != piece_size for _, d in files):
        raise ValueError("every file of a torrent must be hashed with the same piece size")
    entries: list[dict[bytes, Any]] = []
    layout: list[TorrentFile] = []
    offset = 0
    hybrid = options.flavour == "hybrid"
    for file_name, digests in files:
        entries.append({b"length": digests.size, b"path": [file_name.encode()]})
        layout.append(TorrentFile(f"{name}/{file_name}", offset, digests.size))
        offset += digests.size
        pad = -digests.size % piece_size
        if hybrid and pad:
            entries.append({b"attr": b"p", b"length": pad, b"path": [b".pad", str(pad).encode()]})
            layout.append(TorrentFile(f"{name}/.pad/{pad}", offset, pad, pad=True))
            offset += pad
    info: dict[bytes, Any] = {b"files": entries, b"name": name.encode(), b"piece length": piece_size}
    if hybrid:
        if any(d.pieces_v1 is None or (d.pieces_root_v2 is None and d.size) for _, d in files):
            raise ValueError("a hybrid torrent needs each file's padded v1 pieces and v2 merkle root")
        info[b"pieces"] = b"".join(d.v1_pieces(padded=True) for _, d in files)
        info[b"meta version"] = 2
        info[b"file tree"] = {f.encode(): {b"": _file_tree_leaf(d)} for f, d in files}
    else:
        if contiguous_v1 is None:
            raise ValueError("a v1 multi-file torrent needs the pieces of its files end to end (contiguous_v1)")
        info[b"pieces"] = contiguous_v1
    if len(info[b"pieces"]) != 20 * -(-offset // piece_size):
        raise ValueError(f"{len(info[b'pieces']) // 20} piece hashes for {offset} bytes in {piece_size}-byte pieces")
    if options.source is not None:
        info[b"source"] = options.source.encode()
    return info, tuple(layout)


def _file_tree_leaf(digests: FileDigests) -> dict[bytes, Any]:
    """A file's entry in the v2 file tree; an empty file has no pieces root (as libtorrent writes it)."""
    if digests.size == 0:
        return {b"length": 0}
    return {b"length": digests.size, b"pieces root": digests.pieces_root_v2}


def _check_web_seeds(seeds: Sequence[str], multi_file: bool) -> None:
    for url in seeds:
        if "?" in url or "#" in url:
            raise ValueError(
                f"web seed {url!r} has a query string or fragment: libtorrent refuses those on private hosts "
                "and BEP 19 directory URLs break; use the plain file URL or its directory with a trailing slash"
            )
        if multi_file and not url.endswith("/"):
            raise ValueError(f"web seed {url!r} of a multi-file torrent must be a directory URL ending in '/' (BEP 19)")


def _metainfo(
    info: dict[bytes, Any], options: TorrentOptions, seeds: tuple[str, ...], layers: dict[bytes, bytes] | None
) -> tuple[bytes, bytes]:
    top: dict[bytes, Any] = {b"info": info}
    if options.trackers:
        top[b"announce"] = options.trackers[0].encode()
        if len(options.trackers) > 1:
            top[b"announce-list"] = [[t.encode()] for t in options.trackers]
    if options.comment is not None:
        top[b"comment"] = options.comment.encode()
    if options.creator is not None:
        top[b"created by"] = options.creator.encode()
    if options.creation_date is not None:
        top[b"creation date"] = options.creation_date
    if layers is not None:  # libtorrent writes the key even when empty (files of one piece)
        top[b"piece layers"] = layers
    if seeds:
        top[b"url-list"] = [u.encode() for u in seeds]  # always a list: some old parsers assume one
    return lt.bencode(top), lt.bencode(info)


def torrent_from_files(
    name: str,
    files: Sequence[tuple[str, FileDigests]],
    options: TorrentOptions,
    web_seeds: Sequence[str] = (),
    *,
    contiguous_v1: bytes | None = None,
) -> BuiltTorrent:
    """A multi-file torrent of `files` (name, digests) in the folder `name`."""
    info, layout = multi_file_info_dict(name, files, options, contiguous_v1)
    seeds = tuple(web_seeds)
    _check_web_seeds(seeds, multi_file=True)
    layers = None
    if options.flavour == "hybrid":
        layers = {d.pieces_root_v2: d.piece_layer_v2 for _, d in files if d.piece_layer_v2 is not None}
    data, info_bytes = _metainfo(info, options, seeds, layers)  # type: ignore[arg-type]
    return BuiltTorrent(
        data=data, name=name, size=sum(f.size for f in layout), piece_size=files[0][1].piece_size,
        infohash_v1=hashlib.sha1(info_bytes).hexdigest(),
        infohash_v2=hashlib.sha256(info_bytes).hexdigest() if options.flavour == "hybrid" else None,
        web_seeds=seeds, trackers=tuple(options.trackers), md5=None, sha256=None, files=layout,
    )


@dataclass(frozen=True)
class VersionTorrents:
    """The two torrents of one version's files, from one read of each file."""

    main: BuiltTorrent                              # options.flavour (hybrid by default)
    v1: BuiltTorrent                                # v1 of the same files (the same object when main is v1)
    digests: VersionDigests                         # per file (md5/sha256 as asked), in name order


def build_version_torrents(
    paths: Sequence[Path],
    *,
    folder: str,
    options: TorrentOptions,
    web_seeds: Sequence[str] = (),
    progress: Progress | None = None,
    md5: bool = True,
    sha256: bool = True,
) -> VersionTorrents:
    """The main torrent (options.flavour) and a v1 torrent of a version's files, reading each file once.

    One file: single-file torrents named after the file (the v1 torrent is the hybrid's v1 half, no extra
    hashing). Several: multi-file torrents named `folder`, files in name order; the pieces of both layouts
    (padded for the hybrid, end to end for v1) come from the same read.
    """
    paths = sorted((Path(p) for p in paths), key=lambda p: p.name)
    if not paths:
        raise ValueError("a torrent needs at least one file")
    hybrid = options.flavour == "hybrid"
    if len(paths) == 1:
        (path,) = paths
        digests = digest_file(
            path, piece_size=options.piece_size_for(path.stat().st_size), v1=True, v2=hybrid,
            md5=md5, sha256=sha256, progress=progress,
        )
        return version_torrents_from_digests([(path.name, digests)], folder=folder, options=options, web_seeds=web_seeds)
    total = sum(p.stat().st_size for p in paths)
    version = digest_files(
        paths, piece_size=options.piece_size_for(total), v1_padded=hybrid, contiguous_v1=True, v2=hybrid,
        md5=md5, sha256=sha256, progress=progress,
    )
    return version_torrents_from_digests(
        [(p.name, d) for p, d in zip(paths, version.files)], folder=folder, options=options, web_seeds=web_seeds,
        contiguous_v1=version.contiguous_v1,
    )


def version_piece_size(sizes: Sequence[int], options: TorrentOptions) -> int:
    """The piece size of a version's torrents: by the file's size (one file) or the files' total (several)."""
    return options.piece_size_for(sum(sizes))


def version_torrents_from_digests(
    files: Sequence[tuple[str, FileDigests]],
    *,
    folder: str,
    options: TorrentOptions,
    web_seeds: Sequence[str] = (),
    contiguous_v1: bytes | None = None,
) -> VersionTorrents:
    """Both torrents of a version from hashes recorded earlier (no file is read): `files` (name, digests) in name
    order, every digest with v1 pieces (and the v2 tree for a hybrid) at `version_piece_size`; several files also
    need `contiguous_v1`, the v1 pieces of the files end to end."""
    files = sorted(files, key=lambda item: item[0])
    if not files:
        raise ValueError("a torrent needs at least one file")
    v1_options = dataclasses.replace(options, flavour="v1")
    hybrid = options.flavour == "hybrid"
    if len(files) == 1:
        ((name, digests),) = files
        main = torrent_from_digests(name, digests, options, web_seeds)
        v1 = torrent_from_digests(name, digests, v1_options, web_seeds) if hybrid else main
        return VersionTorrents(main, v1, VersionDigests((digests,), digests.v1_pieces(padded=False)))
    v1 = torrent_from_files(folder, files, v1_options, web_seeds, contiguous_v1=contiguous_v1)
    main = torrent_from_files(folder, files, options, web_seeds) if hybrid else v1
    return VersionTorrents(main, v1, VersionDigests(tuple(d for _, d in files), contiguous_v1))


def build_torrent(
    path: Path,
    *,
    name: str,
    options: TorrentOptions,
    web_seeds: Sequence[str] = (),
    progress: Progress | None = None,
    md5: bool = True,
    sha256: bool = True,
) -> BuiltTorrent:
    """Single-file torrent of `path` published under `name`, with the file's MD5 and SHA-256 (each unless
    switched off) from the same read."""
    path = Path(path)
    _check_name(name)
    size = path.stat().st_size
    digests = digest_file(
        path, piece_size=options.piece_size_for(size), v1=True, v2=options.flavour == "hybrid",
        md5=md5, sha256=sha256, progress=progress,
    )
    return torrent_from_digests(name, digests, options, web_seeds)


def read_torrent(data: bytes) -> TorrentInfo:
    """Parse a .torrent (ours or anyone's) with libtorrent."""
    try:
        ti = lt.torrent_info(lt.bdecode(data)) if isinstance(data, bytes) else lt.torrent_info(data)
    except Exception as exc:
        raise ValueError(f"not a valid .torrent file: {exc}") from None
    ih = ti.info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else None
    v2 = ih.v2.to_bytes().hex() if ih.has_v2() else None
    hashes = tuple(ti.hash_for_piece(i) for i in range(ti.num_pieces())) if ih.has_v1() else ()
    fs = ti.files()
    pad_flag = lt.file_storage.flag_pad_file
    files = tuple(
        TorrentFile(fs.file_path(i).replace("\\", "/"), fs.file_offset(i), fs.file_size(i), bool(fs.file_flags(i) & pad_flag))
        for i in range(fs.num_files())
    )
    multi_file = b"files" in (lt.bdecode(ti.info_section()) or {})
    return TorrentInfo(
        name=ti.name(),
        size=ti.total_size(),
        piece_size=ti.piece_length(),
        num_pieces=ti.num_pieces(),
        infohash_v1=v1,
        infohash_v2=v2,
        web_seeds=tuple(ws["url"] for ws in ti.web_seeds()),
        trackers=tuple(t.url for t in ti.trackers()),
        comment=ti.comment() or None,
        piece_hashes_v1=hashes,
        files=files,
        multi_file=multi_file,
    )


def v1_half(data: bytes) -> bytes:
    """The v1 torrent inside a single-file hybrid: the same pieces and top-level fields, without the v2 parts."""
    top = lt.bdecode(data)
    if top is None or b"info" not in top:
        raise ValueError("not a valid .torrent file (no info dict)")
    info = top[b"info"]
    if b"files" in info:
        raise ValueError("the v1 half of a multi-file hybrid has pad files; build the v1 torrent from the files")
    info.pop(b"meta version", None)
    info.pop(b"file tree", None)
    top.pop(b"piece layers", None)
    return lt.bencode(top)


def with_web_seeds(data: bytes, web_seeds: Sequence[str]) -> bytes:
    """The same torrent (same info-hash) listing exactly `web_seeds` in url-list."""
    top = lt.bdecode(data)
    if top is None or b"info" not in top:
        raise ValueError("not a valid .torrent file (no info dict)")
    top.pop(b"url-list", None)
    top.pop(b"httpseeds", None)
    if web_seeds:
        top[b"url-list"] = [u.encode() for u in web_seeds]
    return lt.bencode(top)
