"""Volunteer mode: follow the catalog or a torrent feed, seed the chosen datasets within a disk budget."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dfc_assets.torrent.download import download_from_web_seeds
from dfc_assets.torrent.metainfo import TorrentInfo, read_torrent
from dfc_assets.torrent.seeder import Seeder

from .offers import Offer, fetch_torrent, read_offers
from .selection import Selection, choose

TORRENT_MARKER_SUFFIX = ".torrent"
"""Each version folder keeps its .torrent beside the file; only folders holding one are ever deleted."""


@dataclass
class SyncResult:
    chosen: list[Offer]
    added: list[Offer] = field(default_factory=list)          # seeded since this sync
    dropped: list[str] = field(default_factory=list)          # version folders removed (seeder and disk)
    failed: dict[str, str] = field(default_factory=dict)      # offer label -> why; retried next sync


def _safe(part: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", part)
    return cleaned if cleaned.strip(".") else "_"


class VolunteerSeeder:
    """Keeps `data_dir` and `seeder` equal to the selection: call `sync` on an interval.

    data_dir/{dataset}/{version}/ holds the version's files and its .torrent; the version's main and v1 torrents
    (two swarms) are both seeded from them. A version that leaves the selection
    (a newer one took its place in the budget, or it left the catalog) is removed from the seeder and deleted
    before anything new is downloaded, so the folder stays within the budget. A file already on disk is checked
    piece by piece by libtorrent and only missing or bad pieces are fetched from the web seeds.
    """

    def __init__(self, source: str, seeder: Seeder, selection: Selection, *, data_dir: Path, http: httpx.Client,
                 log: Callable[[str], None] = print, download_timeout: float = 6 * 3600) -> None:
        self._source = source
        self._seeder = seeder
        self._selection = selection
        self._data_dir = Path(data_dir)
        self._http = http
        self._log = log
        self._download_timeout = download_timeout
        self._seeding: dict[Path, tuple[str, ...]] = {}   # version folder -> the seeder's keys (main, v1)

    def folder(self, offer: Offer) -> Path:
        return self._data_dir / _safe(offer.dataset_id) / _safe(offer.version)

    @property
    def seeding(self) -> list[Path]:
        return sorted(self._seeding)

    def sync(self) -> SyncResult:
        result = SyncResult(chosen=choose(read_offers(self._source, self._http), self._selection))
        keep = {self.folder(offer) for offer in result.chosen}
        result.dropped = self._drop_all_but(keep)
        for offer in result.chosen:
            if self.folder(offer) in self._seeding:
                continue
            try:
                self._fetch_and_seed(offer)
            except Exception as error:  # one unreachable version never stops the others
                result.failed[offer.label] = str(error)
                self._log(f"cannot seed {offer.label}: {error}; retrying next sync")
                continue
            result.added.append(offer)
        used = sum(offer.size for offer in result.chosen)
        self._log(f"selection: {len(result.chosen)} versions, {used / 1e6:.1f} MB"
                  + (f" of a {self._selection.budget_bytes / 1e6:.1f} MB budget" if self._selection.budget_bytes is not None else ""))
        return result

    def _version_folders(self) -> list[Path]:
        if not self._data_dir.is_dir():
            return []
        return [marker.parent for marker in self._data_dir.glob(f"*/*/*{TORRENT_MARKER_SUFFIX}")]

    def _drop_all_but(self, keep: set[Path]) -> list[str]:
        dropped = []
        for folder in sorted(set(self._version_folders()) | set(self._seeding)):
            if folder in keep:
                continue
            for key in self._seeding.pop(folder, ()):
                self._seeder.remove(key)
            shutil.rmtree(folder, ignore_errors=True)
            if not any(folder.parent.iterdir()):
                folder.parent.rmdir()
            label = f"{folder.parent.name} version {folder.name}"
            dropped.append(label)
            self._log(f"dropped {label}: no longer in the selection")
        return dropped

    def _fetch_and_seed(self, offer: Offer) -> None:
        """Both torrents of the version (main, and v1 when listed) are fetched before anything is downloaded, so
        either both are seeded from the one copy of its files or neither is (and the next sync tries again)."""
        torrent = fetch_torrent(offer, http=self._http)
        info = read_torrent(torrent)
        v1_torrent = fetch_torrent(offer.v1, http=self._http) if offer.v1 is not None else None
        if v1_torrent is not None and _layout(read_torrent(v1_torrent)) != _layout(info):
            raise ValueError(f"{offer.label}: its v1 torrent {offer.v1_torrent_url} holds other files than its main torrent")
        folder = self.folder(offer)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{info.name}{TORRENT_MARKER_SUFFIX}").write_bytes(torrent)
        had_file = all((folder / f.path).is_file() and (folder / f.path).stat().st_size == f.size for f in info.data_files)
        download_from_web_seeds(torrent, folder, timeout=self._download_timeout)
        self._seeding[folder] = tuple(self._seeder.add(t, folder) for t in (torrent, v1_torrent) if t is not None)
        how = "verified the file already here" if had_file else "downloaded from its web seeds"
        self._log(f"seeding {offer.label} ({offer.size} bytes, btih {', '.join(self._seeding[folder])}): {how}")


def _layout(info: TorrentInfo) -> list[tuple[str, int]]:
    return sorted((f.path, f.size) for f in info.data_files)
