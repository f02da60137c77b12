"""The embedded instance's SQLite files without an fsync per Dagster event.

Dagster's SQLite storage opens a connection for every event, commits and closes it (some 60 events a version in a
ranged run: asset events are written twice, to the run's file and to the index). With the defaults each commit is
an fsync (``synchronous=FULL``) and each close of a file's last connection a checkpoint with two more: a ranged run
of 17 versions spent about 40% of its time waiting for the disk (38 s and 28 s with the defaults, 21 s with
synchronous=OFF and no other change; this module, with one TLS context a process: 19 s).

While ``sqlite_kept_open()`` is entered, every SQLite connection of this process commits with
``synchronous=NORMAL`` (Dagster's files are in WAL mode: a commit is appended to the WAL without an fsync, and
the file stays consistent through a crash or power cut; only the last commits may be lost then), and each file a
connection opens is kept open by one more connection until the scope that first saw it ends, so closing Dagster's
connection is not a checkpoint. Scopes nest: the embedded session is one (the run and index files), each run
another (its own event file, closed when the run ends, so a long session never holds hundreds of files open).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_KEPT_OPEN = 16
"""Files kept open at once (three descriptors each: the file, its WAL and its WAL index)."""

_lock = threading.Lock()
_scopes: list[dict[str, sqlite3.Connection]] = []


def _held() -> set[str]:
    return {path for scope in _scopes for path in scope}


def _on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()  # (seq, name, file); file "" in memory
    path = row[2] if row else ""
    with _lock:
        if not path or not _scopes or path in _held():
            return
        if len(_held()) >= MAX_KEPT_OPEN:
            return
        keeper = sqlite3.connect(path, check_same_thread=False)
        # reading maps the WAL index, so Dagster's connection is no longer the last one; a file Dagster has just
        # created is not in WAL mode yet (it switches right after): kept from a later connection on
        if keeper.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            keeper.close()
            return
        _scopes[-1][path] = keeper


@contextmanager
def sqlite_kept_open() -> Iterator[None]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    with _lock:
        if not _scopes:
            event.listen(Engine, "connect", _on_connect)
        _scopes.append({})
    try:
        yield
    finally:
        with _lock:
            scope = _scopes.pop()
            if not _scopes:
                event.remove(Engine, "connect", _on_connect)
        for keeper in scope.values():
            keeper.close()
