"""Ports of the embedded services: chosen once per work folder, then kept (published URLs carry them).

A port the kernel hands out for a bind to 0 lies in its ephemeral range, from which every outgoing connection also
draws its local port: when the services start again on it days later, a connection may hold it. So the embedded
services choose theirs from the band just below that range, which nothing takes unasked.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Set
from pathlib import Path

EMBEDDED_BAND = 8192  # ports just below the ephemeral range that the embedded services choose from


class PortsTaken(RuntimeError):
    """A port the embedded services keep for their work folder is in use."""


def ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux's ip_local_port_range; 32768 where it cannot be read)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def is_free(host: str, port: int) -> bool:
    """Whether a server may bind the port now (as our servers do, with SO_REUSEADDR: a closed connection's
    TIME_WAIT left by the last run does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def embedded_band() -> range:
    top = ephemeral_low()
    return range(max(1024, top - EMBEDDED_BAND), top)


def unused_port(host: str, *, band: range | None = None, taken: Set[int] = frozenset()) -> int:
    """A port no one is bound to and not in ``taken``, from ``band`` (default: the embedded services' band below the
    ephemeral range); any free port if the band is too small on this host."""
    band = embedded_band() if band is None else band
    if len(band) >= 100:
        for port in random.sample(band, min(200, len(band))):
            if port not in taken and is_free(host, port):
                return port
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
