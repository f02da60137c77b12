"""One Zenodo request budget for every process: 429 storms waited out, several publishers never over the limit.

The limiter's state is shared through a file (one host) or a PostgreSQL table (every host); both are
tested with real processes against the emulator, which counts the requests of each token per window.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from dfc_assets.zenodo import FileJournal, ZenodoClient, ZenodoEmulator, publish_version
from dfc_assets.zenodo.rate_limit import (
    FileStore, MemoryStore, PostgresStore, RateLimiter, bucket_name, rate_limiter_from_environment, store_from_environment,
)

from dfc_assets_tests.threads import in_threads

from .conftest import TOKEN, make_file, metadata

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def postgres():
    from dfc_assets_tests.e2e.topology_postgres import ThrowawayPostgres, postgres_bin_dir

    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries are not installed (Debian package postgresql)")
    server = ThrowawayPostgres(database="dfc")
    with server as cluster:
        yield cluster


def postgres_dsn(cluster) -> str:
    return f"postgresql://{cluster.user}:{cluster.password}@{cluster.host}:{cluster.port}/{cluster.database}"


def start_publishers(emulator: ZenodoEmulator, store: str, window: float, tmp_path: Path, count: int) -> list[subprocess.Popen]:
    """``count`` publishers that begin together once each has started up (their start-up times differ under load)."""
    # As in production, the limit assumed before the first answer (Zenodo documents 100 a minute) is
    # below the one the server then announces (1000 a minute); the limiter learns the latter.
    assumed_limit = max(1, emulator.rate_limit // 10)
    environment = {**os.environ, "ZENODO_TEST_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    start_file = tmp_path / "start"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "dfc_assets_tests.zenodo.publisher_process", "--base-url", emulator.base_url,
             "--store", store, "--window", str(window), "--assumed-limit", str(assumed_limit), "--dataset", f"table-{n}",
             "--workdir", str(tmp_path / f"p{n}"), "--start-file", str(start_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, cwd=REPO,
        )
        for n in range(count)
    ]
    for process in processes:
        ready = process.stdout.readline()
        assert ready == "ready\n", (ready, process.stderr.read()[-3000:] if process.poll() is not None else "")
    start_file.touch()
    return processes


def finish(processes: list[subprocess.Popen]) -> list[list[dict]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        assert TOKEN not in out + err
        results.append([json.loads(line) for line in out.splitlines() if line.strip()])  # "ready" was read by start_publishers
    return results


@pytest.mark.parametrize("store_kind", ["file", "postgres"])
def test_several_processes_publishing_at_once_never_exceed_the_limit(tmp_path, store_kind, request):
    limit, window = 30, 3
    if store_kind == "postgres":
        store = postgres_dsn(request.getfixturevalue("postgres"))
    else:
        store = f"file:{tmp_path / 'limiter'}"
    with ZenodoEmulator(tmp_path / "zenodo", token=TOKEN, rate_limit=limit, rate_limit_window=window) as emulator:
        results = finish(start_publishers(emulator, store, window, tmp_path, count=4))
        answered = len(emulator.requests)
        peak = emulator.rate_limiter.peak[TOKEN]
        refused = emulator.rate_limiter.refused
    assert [[r["version"] for r in lines] for lines in results] == [["v1", "v2"]] * 4  # every publication finished
    assert len({lines[0]["concept"] for lines in results}) == 4
    assert answered >= 2 * limit  # enough requests that an unshared budget would have gone over
    assert refused == 0 and peak <= limit, f"{refused} requests refused, {peak} in one {window} s window (limit {limit})"


def test_the_same_publishers_with_a_budget_each_go_over_the_limit(tmp_path):
    """The control: without a shared budget, the same load makes the emulator refuse requests.

    Each publisher alone keeps under the limit (about 15 requests against 80% of 30); together they go over it
    only if their requests meet in one window, so the window is long enough (10 s) that they do however slowly
    a loaded machine runs them (in 3 s windows they could spread out and none was refused)."""
    limit, window = 30, 10
    with ZenodoEmulator(tmp_path / "zenodo", token=TOKEN, rate_limit=limit, rate_limit_window=window) as emulator:
        results = finish(start_publishers(emulator, "memory", window, tmp_path, count=4))
        refused = emulator.rate_limiter.refused
    assert all(len(lines) == 2 for lines in results)  # 429s were waited out, not failures
    assert refused > 0 and sum(lines[-1]["rate_limited"] for lines in results) == refused


def test_a_429_storm_slows_a_publication_and_fails_nothing(tmp_path):
    with ZenodoEmulator(tmp_path / "zenodo", token=TOKEN) as emulator:
        storm = emulator.faults.add("*", 429, times=6, retry_after=1)
        limiter = RateLimiter(MemoryStore(), "storm")
        with ZenodoClient(emulator.base_url, TOKEN, backoff=0.01, rate_limiter=limiter) as client:
            record = publish_version(client, dataset_id="storm-table", version="1", metadata=metadata("Storm (1)"),
                                     files=[make_file(tmp_path, "storm.parquet", 4_000)], concept_recid=None,
                                     journal=FileJournal(tmp_path / "journal.json"))
            assert client.rate_limited == 6
        assert storm.hits == 6
        assert limiter.waited >= 5.0  # each Retry-After of 1 s was waited out
        assert [d["state"] for d in client_listing(emulator)] == ["done"]
        assert record.version == "1"


def client_listing(emulator: ZenodoEmulator) -> list[dict]:
    with ZenodoClient(emulator.base_url, TOKEN, rate_limiter=RateLimiter(MemoryStore(), "listing")) as client:
        return client.list_depositions()


def test_the_limiter_learns_the_limit_and_pauses_everyone_at_zero_remaining():
    now = [1_000_000.0]
    limiter = RateLimiter(MemoryStore(), "b", clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    limiter.acquire()
    limiter.observe(201, {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "997", "x-ratelimit-reset": str(now[0] + 58),
                          "retry-after": "58"})  # retry-after comes on every answer: ignored on a 2xx
    start = now[0]
    limiter.acquire()
    assert now[0] == start
    limiter.observe(200, {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(start + 30)})
    limiter.acquire()
    assert now[0] >= start + 30  # nobody asks before the window resets
    other = RateLimiter(limiter.store, "b", clock=lambda: now[0])
    other.observe(429, {"retry-after": "12"})
    paused = now[0]
    limiter.acquire()
    assert now[0] >= paused + 12  # a 429 seen by one client pauses the others


def test_a_deadline_is_a_clear_error_not_a_wait():
    now = [0.0]
    limiter = RateLimiter(MemoryStore(), "b", clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    limiter.observe(429, {"retry-after": "600"})
    from dfc_assets.zenodo.rate_limit import RateLimitDeadlineError

    with pytest.raises(RateLimitDeadlineError, match="past its deadline"):
        limiter.acquire(deadline=60.0, what="Zenodo PUT /api/files/x")
    assert now[0] == 0.0


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"limit": "x"}'])
def test_a_corrupt_or_empty_state_file_is_taken_over(tmp_path, content):
    store = FileStore(tmp_path)
    (tmp_path / "b.json").write_bytes(content)
    limiter = RateLimiter(store, "b")
    limiter.acquire(deadline=time.time() + 5)
    state = json.loads((tmp_path / "b.json").read_bytes())
    assert state["limit"] == 100 and state["tokens"] >= 0
    (tmp_path / "b.json").write_bytes(content)  # corrupted again while the store holds the file open
    limiter.acquire(deadline=time.time() + 5)
    assert json.loads((tmp_path / "b.json").read_bytes())["limit"] == 100


def test_a_state_file_deleted_meanwhile_is_made_again(tmp_path):
    store = FileStore(tmp_path)
    limiter = RateLimiter(store, "b")
    limiter.observe(200, {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "990"})
    (tmp_path / "b.json").unlink()
    limiter.observe(200, {"x-ratelimit-limit": "500", "x-ratelimit-remaining": "490"})
    assert json.loads((tmp_path / "b.json").read_bytes())["limit"] == 500
    store.close()


HOLD_FILE_LOCK = textwrap.dedent("""
    import fcntl, sys, time
    handle = open(sys.argv[1], "a+b")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(600)
""")


def test_a_file_lock_whose_owner_died_is_taken_over(tmp_path):
    store = FileStore(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_FILE_LOCK, str(store.path("b"))], stdout=subprocess.PIPE, text=True)
    assert_taken_over_when_its_holder_dies(holder, store, "the lock of a dead process was never released")


def assert_taken_over_when_its_holder_dies(holder: subprocess.Popen, store, what: str) -> None:
    """``holder`` prints "locked" once it holds bucket b's lock; a limiter waits for it, then goes on once it is killed."""
    try:
        assert holder.stdout.readline().strip() == "locked"
        done = threading.Event()
        worker = threading.Thread(target=lambda: (RateLimiter(store, "b").acquire(), done.set()), daemon=True)
        worker.start()
        assert not done.wait(0.5)  # the living owner holds it
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert done.wait(30), what
    finally:
        if holder.poll() is None:
            holder.kill()


HOLD_ROW_LOCK = textwrap.dedent("""
    import sys, time
    from dfc_assets.zenodo.rate_limit import PostgresStore
    store = PostgresStore(sys.argv[1])
    store.update("b", lambda state: (state or {"limit": 100, "tokens": 10.0, "updated": 0.0, "paused_until": 0.0}, 0.0))
    connection = store._connect()
    cursor = connection.cursor()
    cursor.execute("SELECT state FROM dfc_zenodo_rate_limit WHERE bucket = 'b' FOR UPDATE")
    print("locked", flush=True)
    time.sleep(600)
""")


def test_a_postgres_row_lock_whose_owner_died_is_taken_over(postgres):
    dsn = postgres_dsn(postgres)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_ROW_LOCK, dsn], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    store = PostgresStore(dsn)
    try:
        assert_taken_over_when_its_holder_dies(holder, store, "the row lock of a dead connection was never released")
    finally:
        store.close()



def test_postgres_stores_starting_together_on_a_fresh_database_all_create_the_table(postgres):
    """Eight connections at once on a table nobody has made yet: each makes it if absent, none fails (PostgreSQL's
    CREATE TABLE IF NOT EXISTS alone raises a duplicate-key error in all but one of them)."""
    table = f"fresh_{uuid.uuid4().hex[:12]}"
    stores = [PostgresStore(postgres_dsn(postgres), table=table) for _ in range(8)]
    try:
        def count(state):  # a state the store keeps (limit, tokens, updated, paused_until), tokens counting the updates
            return {"limit": 1, "tokens": (state or {"tokens": 0})["tokens"] + 1, "updated": 0.0, "paused_until": 0.0}, 0.0

        waits = in_threads(*(lambda s=s: s.update("b", count) for s in stores), what="a first update")
        assert waits == [0.0] * 8
        final: list = []
        stores[0].update("b", lambda state: (final.append(state) or state, 0.0))
        assert final[0]["tokens"] == 8  # and every transition was applied once, one at a time
    finally:
        for store in stores:
            store.close()


def test_the_postgres_store_never_shows_its_password(postgres):
    store = store_from_environment({"DFC_ZENODO_RATE_LIMITER": postgres_dsn(postgres)})
    assert isinstance(store, PostgresStore) and postgres.password not in repr(store)
    bad = PostgresStore(postgres_dsn(postgres).replace(f":{postgres.port}/", ":9/"), connect_timeout=2)  # nothing listens there
    with pytest.raises(ConnectionError) as raised:
        bad.update("b", lambda state: ({}, 0.0))
    assert postgres.password not in str(raised.value)


def test_the_store_is_chosen_by_configuration(tmp_path):
    assert isinstance(store_from_environment({}), FileStore)
    production = {"DAGSTER_POSTGRES_HOST": "db", "DAGSTER_POSTGRES_USER": "u", "DAGSTER_POSTGRES_DB": "d"}
    assert isinstance(store_from_environment(production), PostgresStore)  # the instance's Postgres, without more settings
    assert isinstance(store_from_environment({**production, "DFC_ZENODO_RATE_LIMITER": "file"}), FileStore)
    assert store_from_environment({"DFC_ZENODO_RATE_LIMITER": f"file:{tmp_path}"}).directory == tmp_path
    assert isinstance(store_from_environment({"DFC_ZENODO_RATE_LIMITER": "memory"}), MemoryStore)
    with pytest.raises(ValueError, match="DAGSTER_POSTGRES_HOST"):
        store_from_environment({"DFC_ZENODO_RATE_LIMITER": "postgres"})
    with pytest.raises(ValueError, match="is not one of"):
        store_from_environment({"DFC_ZENODO_RATE_LIMITER": "redis://x"})
    limiter = rate_limiter_from_environment("https://zenodo.org", TOKEN, {"DFC_ZENODO_RATE_LIMITER": f"file:{tmp_path}"})
    assert TOKEN not in limiter.bucket and limiter.bucket == bucket_name("https://zenodo.org/", TOKEN)


def test_the_dagster_instance_postgres_is_used_from_its_variables(postgres, tmp_path):
    """Production sets only DAGSTER_POSTGRES_*: the budget lands in a table of that database, shared by every client."""
    environment = postgres.environment()
    first = rate_limiter_from_environment("https://zenodo.org", TOKEN, environment)
    second = rate_limiter_from_environment("https://zenodo.org", TOKEN, environment)
    assert isinstance(first.store, PostgresStore) and first.bucket == second.bucket
    first.observe(200, {"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(time.time() + 600)})
    from dfc_assets.zenodo.rate_limit import RateLimitDeadlineError

    with pytest.raises(RateLimitDeadlineError):  # the other client sees the pause the first one learned
        second.acquire(deadline=time.time() + 1)
    first.store.close()
    second.store.close()
