"""Ports for servers that must be told theirs (dagster dev, PostgreSQL, BitTorrent clients): free until they bind it.

A port bound to 0 and closed again is back in the kernel's ephemeral range, where every outgoing connection (and
every other port-0 bind) draws its local port: a server started seconds later may find it taken. These ports come
from below that range instead (and below the band of the embedded services, `dfc_assets.services.ports`), each
xdist worker from its own slice, and none is handed out twice in a process.
"""

from __future__ import annotations

import os

from dfc_assets.services.ports import EMBEDDED_BAND, ephemeral_low, unused_port

_GIVEN: set[int] = set()


def _slice() -> range:
    high = ephemeral_low() - EMBEDDED_BAND  # below the band where the embedded services choose theirs
    low = max(10000, high - 12000)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    worker = int((os.environ.get("PYTEST_XDIST_WORKER") or "gw0").removeprefix("gw") or 0)
    size = (high - low) // max(workers, 1)
    return range(low + worker * size, low + (worker + 1) * size)


def free_port() -> int:
    port = unused_port("127.0.0.1", band=_slice(), taken=_GIVEN)
    _GIVEN.add(port)
    return port
