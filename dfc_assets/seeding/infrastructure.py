"""Infrastructure mode: the D4C always-on peer seeds every published version straight from the object store."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dfc_assets.storage import LocalFolderStore, ObjectStore, VersionKeys
from dfc_assets.torrent.seeder import Seeder

from .offers import Offer, fetch_torrent, offers_from_store


class InfrastructureSeeder:
    """Adds every version whose .torrent is under releases/ to `seeder`, in seed mode; call `poll` on an interval.

    A local-folder store is seeded in place. From S3 the artifact is copied once into `cache_dir`
    ({dataset}/{version}/{file}); a copy that is already there complete is reused.
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
                self._seeder.add(torrent, self._file_dir(offer))
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

    def _file_dir(self, offer: Offer) -> Path:
        keys = VersionKeys(offer.dataset_id, offer.version)
        if offer.file_name != keys.artifact_name:
            raise ValueError(f"{offer.label}: the torrent names {offer.file_name!r}, the artifact is {keys.artifact_name!r}")
        if isinstance(self._store, LocalFolderStore):
            return self._store.root / keys.release_prefix
        assert self._cache_dir is not None
        folder = self._cache_dir / offer.dataset_id / offer.version
        target = folder / offer.file_name
        if not (target.is_file() and target.stat().st_size == offer.size):
            partial = folder / f".{offer.file_name}.part"
            self._store.download(keys.artifact, partial)
            if partial.stat().st_size != offer.size:
                raise OSError(f"{offer.label}: copied {partial.stat().st_size} bytes of {keys.artifact}, the torrent says {offer.size}")
            os.replace(partial, target)
        return folder
