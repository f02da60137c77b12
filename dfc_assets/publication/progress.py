"""Progress lines for long work (hashing, uploads), at most one every few seconds."""

from __future__ import annotations

import time
from collections.abc import Callable


def hashing_progress(log: Callable[[str], None], what: str, every_seconds: float = 5.0) -> Callable[[int, int], None]:
    started = time.monotonic()
    last = [started]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < every_seconds:
            return
        last[0] = now
        rate = done / max(now - started, 1e-9) / 1e6
        share = 100 * done / total if total else 100
        log(f"{what}: hashing {share:.0f}% of {total / 1e6:.1f} MB at {rate:.0f} MB/s")

    return report
