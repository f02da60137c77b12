"""The embedded instance's SQLite files: commits without an fsync each, files kept open while a scope uses them."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dfc_assets.cli.sqlite_instance import sqlite_kept_open


def write_one_event(path) -> int:
    """As Dagster's SQLite storage does for every event: an engine, a connection, one commit, closed; the synchronous level."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.connect() as connection:
        with connection.begin():
            connection.execute(text("CREATE TABLE IF NOT EXISTS events (body TEXT)"))
            connection.execute(text("INSERT INTO events VALUES ('x')"))
        level = connection.execute(text("PRAGMA synchronous")).scalar()
    engine.dispose()
    return level


def test_inside_a_scope_a_closed_connection_is_not_the_last_and_commits_are_normal(tmp_path):
    path = tmp_path / "run.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
    wal = tmp_path / "run.db-wal"
    with sqlite_kept_open():
        with sqlite_kept_open():  # a run's scope inside the session's
            assert [write_one_event(path) for _ in range(3)] == [1, 1, 1]  # NORMAL
            assert wal.exists()  # closing Dagster's connection did not checkpoint the file away
        assert write_one_event(path) == 1
    assert write_one_event(path) == 2  # outside every scope: SQLite's default (FULL), nothing kept open
    assert not wal.exists()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM events").fetchone()[0] == 5


def test_a_file_not_in_wal_mode_yet_is_not_kept(tmp_path):
    path = tmp_path / "new.db"
    with sqlite_kept_open():
        write_one_event(path)  # rollback journal: nothing to keep open
        assert not (tmp_path / "new.db-wal").exists()
