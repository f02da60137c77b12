"""An always-on libtorrent seeder for published version files (the D4C infrastructure peer)."""

from __future__ import annotations

import time

from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from .metainfo import read_torrent
from .session import session_settings


@dataclass(frozen=True)
class SeedStatus:
    name: str
    infohash_v1: str | None
    state: str
    peers: int
    uploaded: int               # bytes this session
    error: str | None


class Seeder:
    """Seeds version files that are already complete on disk; use as a context manager.

    Files are added in seed mode: libtorrent trusts them and checks each piece's hash the first time a peer
    asks for it, so start-up does not re-read tens of GB.
    """

    def __init__(self, listen: str = "0.0.0.0:6881", *, discovery: bool = True) -> None:
        host = listen.rsplit(":", 1)[0]
        outgoing = host if host not in ("0.0.0.0", "[::]") else None
        self._session = lt.session(session_settings(listen, outgoing_interface=outgoing, discovery=discovery))
        self._handles: dict[str, lt.torrent_handle] = {}
        self._host = host

    @property
    def port(self) -> int:
        return self._session.listen_port()

    @property
    def peer(self) -> str:
        """"host:port" for magnets' x.pe (pass the public host when listening on 0.0.0.0)."""
        return f"{self._host}:{self.port}"

    def add(self, torrent: bytes, file_dir: Path) -> str:
        """Seed the torrent's files, at file_dir/<path in the torrent> (libtorrent's save path: the file's folder
        for a single-file torrent, the parent of the torrent's folder for several files); returns the v1 info-hash."""
        info = read_torrent(torrent)
        for f in info.data_files:
            path = Path(file_dir) / f.path
            if not path.is_file() or path.stat().st_size != f.size:
                raise FileNotFoundError(
                    f"cannot seed {info.name!r}: expected {f.size} bytes at {path}; download the version's files there first"
                )
        key = info.infohash_v1 or info.infohash_v2 or info.name
        if key in self._handles:
            return key
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(lt.bdecode(torrent))
        atp.save_path = str(file_dir)
        atp.flags |= lt.torrent_flags.seed_mode
        # Started now, not queued: a peer connecting before the torrent is active is dropped and retried only after 60 s.
        atp.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
        handle = self._session.add_torrent(atp)
        self._handles[key] = handle
        self._wait_until_serving(handle, info.name)
        return key

    def _wait_until_serving(self, handle, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            status = handle.status()
            if status.is_seeding and not (status.flags & lt.torrent_flags.paused):
                return
            if status.errc.value():
                raise RuntimeError(f"cannot seed {name!r}: {status.errc.message()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name!r} did not start seeding within {timeout:g} s (state {status.state})")
            self._session.pop_alerts()
            time.sleep(0.05)

    def remove(self, infohash: str) -> None:
        handle = self._handles.pop(infohash)
        self._session.remove_torrent(handle)

    def status(self) -> list[SeedStatus]:
        self._session.pop_alerts()
        out = []
        for key, handle in self._handles.items():
            s = handle.status()
            out.append(
                SeedStatus(
                    name=s.name,
                    infohash_v1=key,
                    state=str(s.state),
                    peers=s.num_peers,
                    uploaded=s.total_upload,
                    error=s.errc.message() if s.errc.value() else None,
                )
            )
        return out

    def close(self) -> None:
        for handle in self._handles.values():
            self._session.remove_torrent(handle)
        self._handles.clear()
        self._session.pause()

    def __enter__(self) -> "Seeder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
