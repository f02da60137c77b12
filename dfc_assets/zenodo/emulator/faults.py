"""Faults the tests inject into the emulator, per route.

``emulator.faults.add(route="publish", status=500, after=True)`` makes the next publish
do its work and then answer 500 (the "publish that answers 5xx but published" case).
``status`` is an HTTP status (500 carries an ``error_id``, 502/504 answer nginx HTML,
429 carries ``retry-after``) or ``"reset"`` (the TCP connection is reset) or ``"corrupt"`` (a bucket upload is stored
with one byte flipped, as a broken proxy would);
``delay`` seconds are slept before answering. Route names are listed in ``ROUTES``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

ROUTES = frozenset({
    "list", "create", "get", "update", "delete", "publish", "edit", "discard", "newversion",
    "files_list", "file_get", "file_delete", "file_post", "bucket_put", "bucket_get", "bucket_delete",
    "bucket_list", "record_get", "record_versions_list", "record_versions_create", "record_latest",
    "record_file_content", "draft_file_content", "public_file", "legacy_redirect", "record_html",
    "file_sort", "file_rename", "community_get",
})

FaultStatus = int | Literal["reset", "corrupt"] | None


@dataclass
class Fault:
    route: str
    status: FaultStatus = 500
    times: int = 1
    after: bool = False
    delay: float = 0.0
    retry_after: int = 1
    hits: int = 0


class FaultPlan:
    """A thread-safe list of pending faults; each request takes at most one."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        route: str,
        status: FaultStatus = 500,
        *,
        times: int = 1,
        after: bool = False,
        delay: float = 0.0,
        retry_after: int = 1,
    ) -> Fault:
        if route != "*" and route not in ROUTES:
            raise ValueError(f"unknown emulator route {route!r}; use one of {sorted(ROUTES)} or '*'")
        if status == "publish_then_500":
            status, after = 500, True
        fault = Fault(route, status, times, after, delay, retry_after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.route in (route, "*") and fault.times > 0:
                    fault.times -= 1
                    fault.hits += 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)
