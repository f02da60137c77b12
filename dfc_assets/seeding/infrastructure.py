"""Infrastructure mode: the D4C always-on peer seeds every published version straight from the object store."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from dfc_assets.storage import LocalFolderStore, ObjectStore, VersionKeys
from dfc_assets.torrent.metainfo import TorrentInfo, read_torrent
from dfc_assets.torrent.seeder import Seeder

from .loop import SwarmMonitor, run_until_stopped
from .offers import Offer, fetch_torrent, offers_from_store


class InfrastructureSeeder:
    """Adds every version whose .torrent is under releases/ to `seeder`, in seed mode; call `poll` on an interval.

    Both torrents of a version (main and v1) are seeded. A local-folder store is seeded in place. From S3 the
    version's files are copied once into `cache_dir` ({dataset}/{version}/{file}); a complete copy is reused.
    """

    def __init__(self, store: ObjectStore, seeder: Seeder, *, cache_dir: Path | None = None,
                 log: Callable[[str], None] = print) -> None:
        if not isinstance(store, LocalFolderStore) and cache_dir is None:
            raise ValueError(f"seeding from {store.describe()} needs a cache folder for the version files (--data-dir)")
        self._store = store
        self._seeder = seeder
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._log = log
        self._known: dict[str, Offer] = {}
        self._seeding: dict[str, Offer] = {}
        self._failed: set[str] = set()

    @property
    def seeding(self) -> dict[str, Offer]:
        """Offers being seeded, by v1 info-hash."""
        return dict(self._seeding)

    def poll(self) -> list[Offer]:
        """Seed the versions published since the last poll; returns them. A version that fails is retried next poll."""
        added = []
        for offer in offers_from_store(self._store, self._known):
            if offer.infohash_v1 in self._seeding:
                continue
            try:
                torrent = fetch_torrent(offer, store=self._store)
                self._seeder.add(torrent, self._save_path(offer, read_torrent(torrent)))
            except Exception as error:  # one broken version never stops the others
                if offer.infohash_v1 not in self._failed:
                    self._log(f"cannot seed {offer.label}: {error}; retrying every poll")
                    self._failed.add(offer.infohash_v1)
                continue
            self._failed.discard(offer.infohash_v1)
            self._seeding[offer.infohash_v1] = offer
            added.append(offer)
            self._log(f"seeding {offer.label} ({offer.size} bytes, btih {offer.infohash_v1})")
        return added

    def _save_path(self, offer: Offer, info: TorrentInfo) -> Path:
        """libtorrent's save path: the folder of the version's files (one file) or its parent (the torrent's
        folder is the version: several files)."""
        keys = VersionKeys(offer.dataset_id, offer.version)
        if info.multi_file and info.name != offer.version:
            raise ValueError(f"{offer.label}: the torrent's folder is {info.name!r}, not the version {offer.version!r}")
        if isinstance(self._store, LocalFolderStore):
            folder = self._store.root / keys.release_prefix
        else:
            assert self._cache_dir is not None
            folder = self._cache_dir / offer.dataset_id / offer.version
            for f in info.data_files:
                self._copy(offer, keys.release_prefix + f.file_name, folder / f.file_name, f.size)
        return folder.parent if info.multi_file else folder

    def _copy(self, offer: Offer, key: str, target: Path, size: int) -> None:
        if target.is_file() and target.stat().st_size == size:
            return
        partial = target.parent / f".{target.name}.part"
        self._store.download(key, partial)
        if partial.stat().st_size != size:
            raise OSError(f"{offer.label}: copied {partial.stat().st_size} bytes of {key}, the torrent says {size}")
        os.replace(partial, target)


class BackgroundSeeder:
    """`dfc seed infrastructure` on a thread of another process (the embedded default's services): seeds every
    version of `store` and picks up new ones every `poll_interval` seconds. Use as a context manager."""

    def __init__(self, store: ObjectStore, listen: str, *, poll_interval: float = 2.0, status_interval: float = 600.0,
                 log: Callable[[str], None] = lambda message: None) -> None:
        self._store = store
        self._listen = listen
        self._poll_interval = poll_interval
        self._status_interval = status_interval
        self._log = log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.seeder: Seeder | None = None
        self.infrastructure: InfrastructureSeeder | None = None

    @property
    def peer(self) -> str:
        """"host:port" for magnets' x.pe."""
        assert self.seeder is not None, "start() the seeder first"
        return self.seeder.peer

    def start(self) -> "BackgroundSeeder":
        self.seeder = Seeder(self._listen, discovery=False)
        self.infrastructure = InfrastructureSeeder(self._store, self.seeder, log=self._log)
        self._thread = threading.Thread(
            target=run_until_stopped, name="dfc-seeder", daemon=True,
            args=(self.infrastructure.poll, SwarmMonitor(self.seeder)),
            kwargs=dict(stop=self._stop, poll_interval=self._poll_interval, status_interval=self._status_interval,
                        log=self._log),
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.seeder is not None:
            self.seeder.close()

    def __enter__(self) -> "BackgroundSeeder":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
