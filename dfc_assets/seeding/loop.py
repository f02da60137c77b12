"""The always-on loop: poll for versions on an interval, log a status line (torrents, peers, upload rate)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from dfc_assets.torrent.seeder import Seeder


class SwarmMonitor:
    """Status lines for a seeder; the upload rate is measured between two lines."""

    def __init__(self, seeder: Seeder, clock: Callable[[], float] = time.monotonic) -> None:
        self._seeder = seeder
        self._clock = clock
        self._last_time = clock()
        self._last_uploaded = {s.infohash_v1 or s.name: s.uploaded for s in seeder.status()}

    def line(self) -> str:
        statuses = self._seeder.status()
        now = self._clock()
        elapsed = max(now - self._last_time, 1e-9)
        uploaded = {s.infohash_v1 or s.name: s.uploaded for s in statuses}
        fresh = sum(max(0, total - self._last_uploaded.get(key, 0)) for key, total in uploaded.items())
        self._last_time, self._last_uploaded = now, uploaded
        errors = [f"{s.name}: {s.error}" for s in statuses if s.error]
        line = (f"seeding {len(statuses)} torrents, {sum(s.peers for s in statuses)} peers, "
                f"up {fresh / elapsed / 1e6:.2f} MB/s, {sum(uploaded.values()) / 1e6:.1f} MB uploaded")
        return line + (f"; errors: {'; '.join(errors)}" if errors else "")


def run_until_stopped(
    poll: Callable[[], object],
    monitor: SwarmMonitor,
    *,
    stop: threading.Event,
    poll_interval: float,
    status_interval: float,
    log: Callable[[str], None],
) -> None:
    """Call `poll` now and every poll_interval seconds, log a status line every status_interval, until `stop` is set.

    A failed poll (store or network down) is logged and retried at the next interval: the seeder keeps seeding.
    """
    next_poll = next_status = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_poll:
            try:
                poll()
            except Exception as error:  # an always-on service outlives a bad poll
                log(f"poll failed: {type(error).__name__}: {error}; retrying in {poll_interval:g} s")
            next_poll = time.monotonic() + poll_interval
        if now >= next_status:
            log(monitor.line())
            next_status = time.monotonic() + status_interval
        stop.wait(max(0.0, min(next_poll, next_status) - time.monotonic()))
