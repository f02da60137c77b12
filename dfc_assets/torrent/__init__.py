"""Torrents for dataset version files: one-pass hashing, .torrent + magnet, verified web seeds, RSS feed,
web-seed and magnet downloads, and a seeder."""

from .download import MagnetDownloadError, WebSeedDownloadError, download_from_web_seeds, download_magnet
from .feed import FeedEntry, torrent_feed
from .follow import choose_within_budget, parse_feed
from .hashing import FileDigests, digest_file
from .magnet import magnet_uri
from .metainfo import BuiltTorrent, TorrentInfo, build_torrent, read_torrent, torrent_from_digests, with_web_seeds
from .options import TorrentOptions, piece_size_for
from .seeder import Seeder, SeedStatus
from .webseeds import WebSeedReport, audit_web_seeds, verify_web_seed, verify_web_seeds, with_verified_web_seeds

__all__ = [
    "BuiltTorrent",
    "FeedEntry",
    "FileDigests",
    "MagnetDownloadError",
    "SeedStatus",
    "Seeder",
    "TorrentInfo",
    "TorrentOptions",
    "WebSeedDownloadError",
    "WebSeedReport",
    "audit_web_seeds",
    "build_torrent",
    "choose_within_budget",
    "digest_file",
    "download_from_web_seeds",
    "download_magnet",
    "magnet_uri",
    "parse_feed",
    "piece_size_for",
    "read_torrent",
    "torrent_feed",
    "torrent_from_digests",
    "verify_web_seed",
    "verify_web_seeds",
    "with_verified_web_seeds",
    "with_web_seeds",
]
