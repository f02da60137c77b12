"""Magnet URIs for our torrents: both info-hashes, name, size, trackers, web seeds, .torrent URL, our seeder."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

from .metainfo import BuiltTorrent, TorrentInfo

MULTIHASH_SHA256_PREFIX = "1220"  # multihash: sha2-256, 32 bytes (BEP 9 / BEP 52 "btmh")
# libtorrent does not unescape x.pe, so "host:port" (and "[v6]:port") stay literal
_KEEP = {"xt": ":", "x.pe": ":[]"}


def magnet_uri(t: BuiltTorrent | TorrentInfo, *, torrent_url: str | None = None, peer: str | None = None) -> str:
    """magnet:?xt=urn:btih:…[&xt=urn:btmh:1220…]&dn=…&xl=…&tr=…&ws=…[&xs=…][&x.pe=host:port].

    `xs` (the .torrent URL) lets WebTorrent-style clients start from web seeds alone; libtorrent, qBittorrent
    and Transmission ignore it and need a peer with the metadata, which `x.pe` points them to.
    """
    params = [("xt", f"urn:btih:{t.infohash_v1}")]
    if t.infohash_v2:
        params.append(("xt", f"urn:btmh:{MULTIHASH_SHA256_PREFIX}{t.infohash_v2}"))
    params.append(("dn", t.name))
    params.append(("xl", str(t.size)))
    params += [("tr", url) for url in t.trackers]
    params += [("ws", url) for url in t.web_seeds]
    if torrent_url:
        params.append(("xs", torrent_url))
    if peer:
        params.append(("x.pe", peer))
    return _joined(params)


def _joined(params: list[tuple[str, str]]) -> str:
    return "magnet:?" + "&".join(f"{k}={quote(v, safe=_KEEP.get(k, ''))}" for k, v in params)


def sibling_magnet(magnet: str, *, infohash_v1: str, size: int, torrent_url: str | None) -> str:
    """The magnet of another torrent of the same files (the v1 torrent beside a hybrid): the same name, trackers,
    web seeds and peer as `magnet`, with the other torrent's info-hash, byte count and .torrent URL."""
    kept = [(k, v) for k, v in parse_qsl(urlsplit(magnet).query) if k not in ("xt", "xl", "xs")]
    name = [(k, v) for k, v in kept if k == "dn"]
    rest = [(k, v) for k, v in kept if k not in ("dn", "x.pe")]
    peer = [(k, v) for k, v in kept if k == "x.pe"]
    xs = [("xs", torrent_url)] if torrent_url else []
    return _joined([("xt", f"urn:btih:{infohash_v1}"), *name, ("xl", str(size)), *rest, *xs, *peer])
