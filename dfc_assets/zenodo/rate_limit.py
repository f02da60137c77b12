"""One Zenodo request budget shared by every thread, process and host that uses the same token.

A token bucket whose state lives in a shared store (a file under an exclusive ``flock`` on one
host, a row under ``SELECT ... FOR UPDATE`` in PostgreSQL across hosts). With a limit of L
requests per window W, the bucket holds at most ``BURST * L`` tokens and refills at
``REFILL * L / W``, so any interval of length W sees at most ``(BURST + REFILL) * L`` requests
sent: under the limit whatever window alignment the server uses, with room for the jitter
between sending and arriving. The server's answers tune it:

* ``X-RateLimit-Limit`` replaces the assumed limit (Zenodo documents 100/min, answers 1000);
* ``X-RateLimit-Remaining`` caps the tokens held (never believe in more than the server grants),
  and 0 pauses everyone until ``X-RateLimit-Reset``;
* a 429 pauses everyone for its ``Retry-After`` (Zenodo sends ``retry-after`` on every answer,
  so it is only read on 429 and 503).

Both stores heal: a lock held by a process that died is released by the kernel or by PostgreSQL
when its connection ends, and a corrupt or empty state is replaced by a fresh, cautious one.

Which store is used is configuration (``DFC_ZENODO_RATE_LIMITER``, see ``rate_limiter_from_environment``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Protocol

WINDOW_SECONDS = 60.0
ASSUMED_LIMIT = 100  # the documented authenticated limit per minute, until the server says otherwise
BURST = 0.1
REFILL = 0.8
MAX_SINGLE_SLEEP = 2.0
DEFAULT_PAUSE = 5.0
LIMITER_VARIABLE = "DFC_ZENODO_RATE_LIMITER"
LIMITER_DIR_VARIABLE = "DFC_ZENODO_RATE_LIMIT_DIR"
TABLE = "dfc_zenodo_rate_limit"

State = dict
Transition = Callable[[State | None], tuple[State, float]]


class RateLimitDeadlineError(Exception):
    """Waiting for Zenodo's rate limit would pass the caller's deadline."""


class BucketStore(Protocol):
    def update(self, bucket: str, transition: Transition) -> float:
        """Apply ``transition`` to the bucket's state atomically; return the wait it computed."""


class MemoryStore:
    """Shared by the threads of one process only (tests, a single CLI process)."""

    def __init__(self) -> None:
        self._states: dict[str, State] = {}
        self._lock = threading.Lock()

    def update(self, bucket: str, transition: Transition) -> float:
        with self._lock:
            state, wait = transition(self._states.get(bucket))
            self._states[bucket] = state
            return wait


class FileStore:
    """One JSON file per bucket in a shared directory, changed under an exclusive ``flock``.

    The kernel drops the lock when its holder dies, so a dead owner never blocks anyone; a file
    left corrupt or empty by a crash mid-write is taken over with a fresh state. Each file stays
    open (opening one costs more than the whole update); a file deleted or replaced meanwhile is
    opened again."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._threads = threading.Lock()  # flock is per open file; the threads of one process queue here
        self._files: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"FileStore({str(self.directory)!r})"

    def path(self, bucket: str) -> Path:
        return self.directory / f"{bucket}.json"

    def _locked_fd(self, bucket: str) -> int:
        path = self.path(bucket)
        while True:
            fd = self._files.get(bucket)
            if fd is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd = self._files[bucket] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(self._files.pop(bucket))

    def update(self, bucket: str, transition: Transition) -> float:
        with self._threads:
            fd = self._locked_fd(bucket)
            try:
                size = os.fstat(fd).st_size
                state, wait = transition(_decode(os.pread(fd, max(size, 1), 0)))
                data = json.dumps(state).encode()
                os.pwrite(fd, data, 0)
                os.ftruncate(fd, len(data))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return wait

    def close(self) -> None:
        with self._threads:
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()


class PostgresStore:
    """A row per bucket in a table of a PostgreSQL database (the one production Dagster uses).

    The row is locked with ``SELECT ... FOR UPDATE`` for the length of one transition; PostgreSQL
    ends the lock when the holder's connection ends, so a dead owner never blocks anyone."""

    def __init__(self, dsn: str | Mapping[str, object], *, table: str = TABLE, connect_timeout: int = 10) -> None:
        import psycopg2  # dagster-postgres already depends on it

        self._psycopg2 = psycopg2
        self._connect_args = dict(dsn) if isinstance(dsn, Mapping) else {"dsn": dsn}
        self._connect_args.setdefault("connect_timeout", connect_timeout)
        if not table.replace("_", "").isalnum():
            raise ValueError(f"rate-limit table name {table!r} must be letters, digits and underscores")
        self.table = table
        self._connection = None
        self._rows: set[str] = set()  # buckets whose row this connection has seen exist
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # the DSN may hold a password
        return f"PostgresStore(table={self.table!r})"

    def _creation_lock_id(self) -> int:
        return int.from_bytes(hashlib.sha256(f"dfc_assets create {self.table}".encode()).digest()[:8], "big", signed=True)

    def _connect(self):
        if self._connection is None or self._connection.closed:
            try:
                self._connection = self._psycopg2.connect(**self._connect_args)
            except self._psycopg2.Error as error:
                raise ConnectionError(f"cannot reach the PostgreSQL database of the Zenodo rate limiter: "
                                      f"{type(error).__name__}") from None
            with self._connection, self._connection.cursor() as cursor:
                # CREATE TABLE IF NOT EXISTS is not safe against itself: processes starting together on a fresh
                # database fail with a duplicate pg_type row. One creator at a time, by a lock held to the commit.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._creation_lock_id(),))
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (bucket text PRIMARY KEY, state text NOT NULL, "
                               "updated_at timestamptz NOT NULL DEFAULT now())")
        return self._connection

    def update(self, bucket: str, transition: Transition) -> float:
        with self._lock:
            for attempt in (1, 2, 3):
                connection = self._connect()
                try:
                    with connection, connection.cursor() as cursor:
                        if bucket not in self._rows:
                            cursor.execute(f"INSERT INTO {self.table} (bucket, state) VALUES (%s, '') "
                                           "ON CONFLICT (bucket) DO NOTHING", (bucket,))
                        cursor.execute(f"SELECT state FROM {self.table} WHERE bucket = %s FOR UPDATE", (bucket,))
                        row = cursor.fetchone()
                        if row is None:  # deleted meanwhile: make it again
                            self._rows.discard(bucket)
                            continue
                        self._rows.add(bucket)
                        (raw,) = row
                        state, wait = transition(_decode(raw.encode()))
                        cursor.execute(f"UPDATE {self.table} SET state = %s, updated_at = now() WHERE bucket = %s",
                                       (json.dumps(state), bucket))
                    return wait
                except (self._psycopg2.OperationalError, self._psycopg2.InterfaceError):
                    self.close()
                    if attempt == 3:
                        raise ConnectionError("lost the PostgreSQL connection of the Zenodo rate limiter three times") from None
        raise RuntimeError(f"the row of {bucket} in {self.table} kept disappearing; is something deleting it?")

    def close(self) -> None:
        self._rows.clear()
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None


def _decode(raw: bytes) -> State | None:
    """A state as stored, or None (absent, empty or corrupt: the caller starts afresh)."""
    try:
        state = json.loads(raw) if raw.strip() else None
    except ValueError:
        return None
    if not isinstance(state, dict) or not all(isinstance(state.get(k), (int, float)) for k in ("limit", "tokens", "updated", "paused_until")):
        return None
    return state


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass(repr=False)
class RateLimiter:
    """``acquire`` before each request, ``observe`` each answer. ``bucket`` names the shared budget."""

    store: BucketStore
    bucket: str
    _: KW_ONLY
    window: float = WINDOW_SECONDS
    assumed_limit: int = ASSUMED_LIMIT
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waited: float = field(default=0.0, init=False)

    def __repr__(self) -> str:
        return f"RateLimiter({self.store!r}, bucket={self.bucket!r})"

    def _fresh(self, now: float) -> State:
        # A state that was lost (first use, or corrupt): start with one burst, not a full window.
        return {"limit": self.assumed_limit, "tokens": max(1.0, BURST * self.assumed_limit), "updated": now, "paused_until": 0.0}

    def _refill(self, state: State, now: float) -> None:
        limit = max(1.0, float(state["limit"]))
        capacity = max(1.0, BURST * limit)
        elapsed = max(0.0, now - float(state["updated"]))
        state["tokens"] = min(capacity, float(state["tokens"]) + elapsed * REFILL * limit / self.window)
        state["updated"] = now

    def acquire(self, deadline: float | None = None, *, what: str = "a Zenodo request") -> None:
        """Block until the shared budget allows one request; raise if that would pass ``deadline`` (epoch s)."""
        while True:
            now = self.clock()

            def take(state: State | None) -> tuple[State, float]:
                state = state or self._fresh(now)
                if now < state["paused_until"]:
                    return state, state["paused_until"] - now
                self._refill(state, now)
                if state["tokens"] >= 1.0:
                    state["tokens"] -= 1.0
                    return state, 0.0
                return state, (1.0 - state["tokens"]) * self.window / (REFILL * max(1.0, float(state["limit"])))

            wait = self.store.update(self.bucket, take)
            if wait <= 0:
                return
            if deadline is not None and now + wait > deadline:
                raise RateLimitDeadlineError(
                    f"{what} would wait {wait:.0f} s more for Zenodo's rate limit, past its deadline "
                    f"({max(0.0, deadline - now):.0f} s left); Zenodo is throttling this token, try again later "
                    "or lower the number of concurrent publications"
                )
            step = min(wait, MAX_SINGLE_SLEEP)
            self.waited += step
            self.sleep(step)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        now = self.clock()
        limit = _number(headers, "x-ratelimit-limit")
        remaining = _number(headers, "x-ratelimit-remaining")
        reset = _number(headers, "x-ratelimit-reset")
        retry_after = _number(headers, "retry-after") if status in (429, 503) else None
        if limit is None and remaining is None and status != 429 and retry_after is None:
            return

        def learn(state: State | None) -> tuple[State, float]:
            state = state or self._fresh(now)
            self._refill(state, now)
            if limit is not None and limit >= 1:
                state["limit"] = limit
                state["tokens"] = min(state["tokens"], max(1.0, BURST * limit))
            if remaining is not None:
                state["tokens"] = min(state["tokens"], max(0.0, remaining))
                if remaining <= 0 and reset is not None and reset > now:
                    state["paused_until"] = max(state["paused_until"], reset)
            if status == 429 or retry_after is not None:
                pause = retry_after if retry_after is not None else (reset - now if reset and reset > now else DEFAULT_PAUSE)
                state["paused_until"] = max(state["paused_until"], now + max(0.0, pause))
                state["tokens"] = 0.0
            return state, 0.0

        self.store.update(self.bucket, learn)


def bucket_name(base_url: str, token: str) -> str:
    """The shared budget of one token at one Zenodo: a digest, so the token is never stored or shown."""
    return "zenodo-" + hashlib.sha256(f"{base_url.rstrip('/')}\n{token}".encode()).hexdigest()[:24]


def default_directory() -> Path:
    return Path(tempfile.gettempdir()) / "dfc-zenodo-rate-limit"


def store_from_environment(environ: Mapping[str, str] | None = None) -> BucketStore:
    """``DFC_ZENODO_RATE_LIMITER``:

    * unset: ``postgres`` where Dagster's instance is in PostgreSQL (``DAGSTER_POSTGRES_HOST`` is set, as in
      every process and run container of the production deployment), else ``file``;
    * ``file``: a file per token in ``DFC_ZENODO_RATE_LIMIT_DIR`` (default ``$TMPDIR/dfc-zenodo-rate-limit``),
      shared by every process of this host;
    * ``file:/some/dir``: the same in that directory (put it on storage every process of the host sees);
    * ``postgres``: a table in the PostgreSQL of Dagster's instance (the ``DAGSTER_POSTGRES_*`` variables of
      ``docker/dagster.yaml``), shared by every host;
    * ``postgresql://...``: a table in that database;
    * ``memory``: this process only.
    """
    env = os.environ if environ is None else environ
    choice = (env.get(LIMITER_VARIABLE) or ("postgres" if env.get("DAGSTER_POSTGRES_HOST") else "file")).strip()
    if choice == "memory":
        return MemoryStore()
    if choice == "file":
        return FileStore(Path(env.get(LIMITER_DIR_VARIABLE) or default_directory()))
    if choice.startswith("file:"):
        return FileStore(Path(choice[len("file:"):].removeprefix("//")))
    if choice == "postgres":
        missing = [name for name in ("DAGSTER_POSTGRES_HOST", "DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_DB") if not env.get(name)]
        if missing:
            raise ValueError(f"{LIMITER_VARIABLE}=postgres needs {', '.join(missing)} (the Postgres of Dagster's instance)")
        return PostgresStore({
            "host": env["DAGSTER_POSTGRES_HOST"], "port": int(env.get("DAGSTER_POSTGRES_PORT") or 5432),
            "user": env["DAGSTER_POSTGRES_USER"], "password": env.get("DAGSTER_POSTGRES_PASSWORD", ""),
            "dbname": env["DAGSTER_POSTGRES_DB"],
        })
    if choice.startswith(("postgresql://", "postgres://")):
        return PostgresStore(choice)
    raise ValueError(f"{LIMITER_VARIABLE}={choice.split('://')[0]!r} is not one of: file, file:/dir, postgres, postgresql://..., memory")


def rate_limiter_from_environment(base_url: str, token: str, environ: Mapping[str, str] | None = None) -> RateLimiter:
    return RateLimiter(store_from_environment(environ), bucket_name(base_url, token))
