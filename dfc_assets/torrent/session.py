"""libtorrent session settings shared by the downloader and the seeder."""

from __future__ import annotations

import libtorrent as lt

ALERTS = (
    lt.alert.category_t.error_notification
    | lt.alert.category_t.status_notification
    | lt.alert.category_t.peer_notification
    | lt.alert.category_t.storage_notification
)


def session_settings(
    listen: str = "127.0.0.1:0", *, outgoing_interface: str | None = None, discovery: bool = False
) -> dict:
    """Settings for a session on `listen` ("ip:port"; port 0 = any free port).

    discovery=False turns off DHT, local peer discovery, UPnP and NAT-PMP (tests, web-seed-only downloads).
    uTP is off: over loopback it stalls (reference §4.4); TCP is enough for a seeder on a server.
    """
    settings = {
        "listen_interfaces": listen,
        "enable_dht": discovery,
        "enable_lsd": discovery,
        "enable_upnp": discovery,
        "enable_natpmp": discovery,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "alert_mask": ALERTS,
    }
    if outgoing_interface:
        settings["outgoing_interfaces"] = outgoing_interface
    return settings
