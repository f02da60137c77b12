"""Torrents for dataset versions (one file or several): one-pass hashing, hybrid and v1 .torrent + magnets, verified web seeds, RSS feed,
web-seed and magnet downloads, and a seeder."""

from .download import MagnetDownloadError, WebSeedDownloadError, download_from_web_seeds, download_magnet
from .feed import FeedEntry, torrent_feed
from .follow import choose_within_budget, parse_feed
from .hashing import FileDigests, VersionDigests, digest_file, digest_files
from .magnet import magnet_uri
from .metainfo import (
    BuiltTorrent, TorrentFile, TorrentInfo, VersionTorrents, build_torrent, build_version_torrents, read_torrent,
    torrent_from_digests, torrent_from_files, v1_half, with_web_seeds,
)
from .options import TorrentOptions, piece_size_for
from .seeder import Seeder, SeedStatus
from .webseeds import (
    WebSeedReport, audit_cycle, audit_web_seeds, check_pieces, rotating_pieces, verify_web_seed, verify_web_seeds,
    web_seed_file_urls, with_verified_web_seeds,
)

__all__ = [
    "BuiltTorrent",
    "TorrentFile",
    "VersionDigests",
    "VersionTorrents",
    "audit_cycle",
    "build_version_torrents",
    "check_pieces",
    "digest_files",
    "rotating_pieces",
    "torrent_from_files",
    "v1_half",
    "web_seed_file_urls",
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
