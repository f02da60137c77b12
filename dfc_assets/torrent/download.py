"""Download a torrent's file from its BEP 19 web seeds only, with a real libtorrent session."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import libtorrent as lt

from .metainfo import read_torrent


class WebSeedDownloadError(RuntimeError):
    pass


_SESSION_SETTINGS = {
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "enable_incoming_utp": False,
    "enable_outgoing_utp": False,
    "alert_mask": lt.alert.category_t.error_notification
    | lt.alert.category_t.status_notification
    | lt.alert.category_t.peer_notification
    | lt.alert.category_t.storage_notification,
}

_REPORTED = (lt.url_seed_alert, lt.peer_error_alert, lt.hash_failed_alert, lt.peer_ban_alert, lt.file_error_alert, lt.torrent_error_alert)


def _without_trackers(data: bytes) -> bytes:
    top = lt.bdecode(data)
    if top is None or b"info" not in top:
        raise ValueError("not a valid .torrent file (no info dict)")
    for key in (b"announce", b"announce-list", b"nodes", b"httpseeds"):
        top.pop(key, None)
    return lt.bencode(top)  # the info dict is untouched, so the info-hash is the same


def download_from_web_seeds(
    torrent: bytes | Path,
    save_dir: Path,
    *,
    timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Fetch the torrent's file into `save_dir` from its web seeds alone; return the finished file's path."""
    data = Path(torrent).read_bytes() if isinstance(torrent, (str, Path)) else torrent
    info = read_torrent(data)
    if not info.web_seeds:
        raise WebSeedDownloadError(f"torrent {info.name!r} lists no web seeds (url-list); nothing to download from")
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)

    session = lt.session(_SESSION_SETTINGS)
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(lt.bdecode(_without_trackers(data)))
    atp.save_path = str(save_dir)
    handle = session.add_torrent(atp)
    events: list[str] = []
    deadline = time.monotonic() + timeout
    last_reported = -1.0
    try:
        while True:
            for alert in session.pop_alerts():
                if isinstance(alert, _REPORTED):
                    events.append(f"{type(alert).__name__}: {alert.message()}")
                    if progress is not None:
                        progress(events[-1])
            status = handle.status()
            if status.is_seeding:
                break
            if status.errc.value():
                raise WebSeedDownloadError(
                    f"downloading {info.name!r} failed: {status.errc.message()}; web seeds: {', '.join(info.web_seeds)}"
                )
            if progress is not None and status.progress - last_reported >= 0.1:
                last_reported = status.progress
                progress(f"{info.name}: {status.progress:.0%} ({status.download_rate / 1e6:.1f} MB/s)")
            if time.monotonic() > deadline or (not handle.url_seeds() and events):
                raise WebSeedDownloadError(
                    f"could not download {info.name!r} from its web seeds within {timeout:g} s "
                    f"({status.progress:.0%} done). Web seeds: {', '.join(info.web_seeds)}. "
                    f"Last alerts: {'; '.join(events[-5:]) or 'none'}. A web seed must serve the exact bytes "
                    "and answer Range requests with 206 Partial Content."
                )
            session.wait_for_alert(200)
    finally:
        session.remove_torrent(handle)
        del session
    path = save_dir / info.name
    if progress is not None:
        progress(f"{info.name}: complete ({info.size} bytes) -> {path}")
    return path
