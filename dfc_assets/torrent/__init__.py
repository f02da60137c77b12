"""Torrents for dataset version files: one-pass hashing, .torrent + magnet, web-seed download."""

from .download import WebSeedDownloadError, download_from_web_seeds
from .hashing import FileDigests, digest_file
from .magnet import magnet_uri
from .metainfo import BuiltTorrent, TorrentInfo, build_torrent, read_torrent, torrent_from_digests, with_web_seeds
from .options import TorrentOptions, piece_size_for

__all__ = [
    "BuiltTorrent",
    "FileDigests",
    "TorrentInfo",
    "TorrentOptions",
    "WebSeedDownloadError",
    "build_torrent",
    "digest_file",
    "download_from_web_seeds",
    "magnet_uri",
    "piece_size_for",
    "read_torrent",
    "torrent_from_digests",
    "with_web_seeds",
]
