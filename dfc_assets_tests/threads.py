"""Calls started at one moment, each in its own thread: the tests' concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def in_threads(*calls: Callable[[], Any], wait_seconds: float = 60, what: str = "a call") -> list:
    """Every call in its own thread, released together by a barrier; their results in order, or the first failure raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=wait_seconds)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=4 * wait_seconds)
    assert not any(t.is_alive() for t in threads), f"{what} never finished"
    if errors:
        raise errors[0]
    return results
