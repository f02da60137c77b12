"""Download a version with a real libtorrent session: from BEP 19 web seeds only, or from a magnet.

Both return save_dir/<torrent name>: the file of a single-file torrent, the folder of a multi-file one."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import libtorrent as lt

from .metainfo import read_torrent
from .session import session_settings


class WebSeedDownloadError(RuntimeError):
    pass


class MagnetDownloadError(RuntimeError):
    pass


_REPORTED = (
    lt.url_seed_alert,
    lt.peer_error_alert,
    lt.hash_failed_alert,
    lt.peer_ban_alert,
    lt.file_error_alert,
    lt.torrent_error_alert,
    lt.tracker_error_alert,
)


def _without_trackers(data: bytes) -> bytes:
    top = lt.bdecode(data)
    if top is None or b"info" not in top:
        raise ValueError("not a valid .torrent file (no info dict)")
    for key in (b"announce", b"announce-list", b"nodes", b"httpseeds"):
        top.pop(key, None)
    return lt.bencode(top)  # the info dict is untouched, so the info-hash is the same


def _wait_until_seeding(
    session: lt.session,
    handle: lt.torrent_handle,
    *,
    timeout: float,
    progress: Callable[[str], None] | None,
    give_up: Callable[[list[str]], bool],
    failure: Callable[[str, list[str]], Exception],
) -> None:
    events: list[str] = []
    deadline = time.monotonic() + timeout
    last_reported = -1.0
    while True:
        for alert in session.pop_alerts():
            if isinstance(alert, _REPORTED):
                events.append(f"{type(alert).__name__}: {alert.message()}")
                if progress is not None:
                    progress(events[-1])
        status = handle.status()
        if status.is_seeding:
            return
        if status.errc.value():
            raise failure(f"failed: {status.errc.message()}", events)
        if progress is not None and status.progress - last_reported >= 0.1:
            last_reported = status.progress
            progress(f"{status.name or 'torrent'}: {status.progress:.0%} ({status.download_rate / 1e6:.1f} MB/s)")
        if time.monotonic() > deadline:
            raise failure(f"did not finish within {timeout:g} s ({status.progress:.0%} done)", events)
        if give_up(events):
            raise failure(f"every source failed ({status.progress:.0%} done)", events)
        session.wait_for_alert(200)


def download_from_web_seeds(
    torrent: bytes | Path,
    save_dir: Path,
    *,
    timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Fetch the torrent's files into `save_dir` from its web seeds alone; return the finished file (or folder)."""
    data = Path(torrent).read_bytes() if isinstance(torrent, (str, Path)) else torrent
    info = read_torrent(data)
    if not info.web_seeds:
        raise WebSeedDownloadError(f"torrent {info.name!r} lists no web seeds (url-list); nothing to download from")
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)

    def failure(what: str, events: list[str]) -> Exception:
        if any(e.startswith(("peer_ban_alert", "hash_failed_alert")) for e in events):
            what += "; a web seed served bytes that do not match the torrent's piece hashes and was banned"
        return WebSeedDownloadError(
            f"downloading {info.name!r} from its web seeds: {what}. Web seeds: {', '.join(info.web_seeds)}. "
            f"Last alerts: {'; '.join(events[-5:]) or 'none'}. A web seed must serve the exact bytes under the "
            "torrent's name and answer Range requests with 206 Partial Content."
        )

    session = lt.session(session_settings("127.0.0.1:0"))
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(lt.bdecode(_without_trackers(data)))
    atp.save_path = str(save_dir)
    handle = session.add_torrent(atp)
    try:
        # libtorrent drops a web seed it banned (wrong bytes); with none left nothing can progress
        _wait_until_seeding(
            session, handle, timeout=timeout, progress=progress,
            give_up=lambda events: bool(events) and not handle.url_seeds(), failure=failure,
        )
    finally:
        session.remove_torrent(handle)
        del session
    path = save_dir / info.name
    if progress is not None:
        progress(f"{info.name}: complete ({info.size} bytes) -> {path}")
    return path


def download_magnet(
    uri: str,
    save_dir: Path,
    *,
    listen: str = "127.0.0.1:0",
    timeout: float = 120.0,
    discovery: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Fetch a magnet's file: metadata and pieces from its peers (x.pe), trackers (tr) and web seeds (ws).

    `listen` is "ip:port"; outgoing connections use the same ip (on loopback give each peer its own 127.0.0.N).
    """
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    atp = lt.parse_magnet_uri(uri)
    atp.save_path = str(save_dir)
    name = atp.name or str(atp.info_hashes.get_best())

    def failure(what: str, events: list[str]) -> Exception:
        peers = ", ".join(f"{ip}:{port}" for ip, port in atp.peers) or "none"
        return MagnetDownloadError(
            f"downloading magnet {name!r} {what}. Peers: {peers}; trackers: {', '.join(atp.trackers) or 'none'}; "
            f"web seeds: {', '.join(atp.url_seeds) or 'none'}. Last alerts: {'; '.join(events[-5:]) or 'none'}. "
            "A magnet needs at least one reachable peer with the metadata (BEP 9): run the seeder and put it in x.pe."
        )

    host = listen.rsplit(":", 1)[0]
    session = lt.session(session_settings(listen, outgoing_interface=host, discovery=discovery))
    handle = session.add_torrent(atp)
    try:
        _wait_until_seeding(
            session, handle, timeout=timeout, progress=progress, give_up=lambda events: False, failure=failure
        )
        path = save_dir / handle.torrent_file().name()
    finally:
        session.remove_torrent(handle)
        del session
    if progress is not None:
        progress(f"{name}: complete -> {path}")
    return path
