"""Which process holds something (a lease, a run): enough to tell later, from another process, that it is gone."""

from __future__ import annotations

import os
import socket


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/{pid}/stat after the command name: state, ppid, ... (proc(5)); None where there is no /proc entry."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), which tells a live process from a reused pid."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def this_process() -> dict[str, str]:
    """``host``, ``pid`` and, where the kernel says, ``start`` of the calling process."""
    identity = {"host": socket.gethostname(), "pid": str(os.getpid())}
    start = process_start(os.getpid())
    if start is not None:
        identity["start"] = start
    return identity


def process_is_gone(host: str | None, pid: str | int | None, start: str | None = None) -> bool:
    """True when the process named is on this host and no longer exists (its pid gone or reused).

    False when it lives, or when it cannot be known from here (another host, no pid).
    """
    if host != socket.gethostname() or not str(pid or "").isdigit():
        return False
    pid = int(pid)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it lives, as another user
    fields = _stat_fields(pid)
    if fields and fields[0] in ("Z", "X"):
        return True  # exited, not yet reaped by its parent
    current = fields[19] if fields and len(fields) > 19 else None
    return start is not None and current is not None and start != current
