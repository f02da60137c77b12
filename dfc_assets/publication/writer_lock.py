"""A lease in the object store that lets one writer at a time do something (replace the catalog, tick the sensor
state, publish one dataset: ``publication.dataset_lease``).

Taken with the store's atomic create-if-absent (If-None-Match on S3, a hard link on a folder). A lease heals:
one whose owner is gone (a dead process on this host) or that expired is taken over, and so is a lease object
that is empty or not a lease (a torn or foreign write), with a log line saying so. Only one waiter takes a
given stale lease over: the takeover is itself claimed with create-if-absent on ``{key}.takeover-{token}``.
With ``renew_seconds`` the holder renews its lease that often while it holds it (a heartbeat), so a short lease
covers work of any length and a holder that dies on another host frees it within ``lease_seconds``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dfc_assets.processes import process_is_gone, this_process
from dfc_assets.publication.context import PublicationError
from dfc_assets.storage import ObjectStore


TAKEOVER_SECONDS = 60


def read_lease(store: ObjectStore, key: str) -> tuple[bytes, dict | None] | None:
    """The lease object's bytes and, if they are a lease, its fields; None when there is no lease."""
    try:
        data = store.get_bytes(key)
    except KeyError:
        return None
    try:
        holder = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data, None
    if not isinstance(holder, dict) or not isinstance(holder.get("owner"), str) or not isinstance(holder.get("expires"), (int, float)):
        return data, None
    return data, holder


def holder_name(holder: dict) -> str:
    """Who holds a lease, for a log line: what it said it is (a run, a step) and its owner token."""
    about = holder.get("holder")
    return f"{about} [{holder['owner']}]" if isinstance(about, str) and about else holder["owner"]


def why_stale(holder: dict | None, now: float) -> str | None:
    """Why a lease may be taken over, or None while its owner may still be writing."""
    if holder is None:
        return "the lease object is empty or not a lease"
    if holder["expires"] < now:
        return f"the lease of {holder['owner']} expired"
    if process_is_gone(holder.get("host"), holder.get("pid"), holder.get("start")):
        return f"the owner {holder['owner']} is gone (no process {holder.get('pid')} on {holder.get('host')})"
    return None


def take_over(store: ObjectStore, key: str, stale: bytes, owner: str, identity: dict[str, str]) -> bool:
    """Remove a stale lease, unless another waiter is taking it over or it changed meanwhile.

    The takeover marker is a short lease of its own, so a waiter that dies while taking over blocks no one.
    """
    marker = f"{key}.takeover-{uuid.uuid5(uuid.NAMESPACE_OID, stale.hex()).hex}"
    if not store.create(marker, json.dumps({"owner": owner, **identity, "expires": time.time() + TAKEOVER_SECONDS}).encode()):
        other = read_lease(store, marker)
        if other is not None and why_stale(other[1], time.time()) is not None:
            store.delete(marker)
        return False
    try:
        current = read_lease(store, key)
        if current is not None and current[0] == stale:
            store.delete(key)
        return True
    finally:
        store.delete(marker)


def _renew(store: ObjectStore, key: str, owner: str, lease: Callable[[], bytes], every: float, stop: threading.Event,
           what: str, log: Callable[[str], None]) -> None:
    """Push the lease's expiry forward every ``every`` seconds while it is still ours (a heartbeat)."""
    while not stop.wait(every):
        try:
            current = read_lease(store, key)
            if current is None or current[1] is None or current[1]["owner"] != owner:
                log(f"{what}: the lease {key} is no longer ours (taken over after it expired?); not renewing it")
                return
            store.put_bytes(key, lease())
        except Exception as error:  # noqa: BLE001 - a store hiccup: the next beat tries again before the lease expires
            log(f"{what}: could not renew the lease {key}: {error}")


@contextmanager
def writer_lock(store: ObjectStore, key: str, *, what: str, lease_seconds: float = 1800, wait_seconds: float = 900,
                poll_seconds: float = 0.5, log: Callable[[str], None] = lambda m: None, holder: str | None = None,
                renew_seconds: float | None = None) -> Iterator[None]:
    """Hold the lease ``key`` for the duration of the block; ``what`` names the work in log lines and errors.

    ``holder``: what the holder is (e.g. the run and the step), written into the lease, so that a waiter's log line
    names it. ``renew_seconds``: renew the lease that often while held (set it well below ``lease_seconds``).
    """
    me = this_process()
    owner = f"{me['host']}:{me['pid']}:{uuid.uuid4().hex[:8]}"
    about = {"holder": holder} if holder else {}

    def lease() -> bytes:
        return json.dumps({"owner": owner, **me, **about, "expires": time.time() + lease_seconds}).encode()

    started = time.monotonic()
    deadline = started + wait_seconds
    waited_for: str | None = None
    while not store.create(key, lease()):
        current = read_lease(store, key)
        if current is None:
            continue  # released just now: try again at once
        data, fields = current
        reason = why_stale(fields, time.time())
        if reason is not None:
            if take_over(store, key, data, owner, me):
                log(f"{what}: {reason}; taking over")
                continue
        elif time.monotonic() > deadline:
            raise PublicationError(f"{what}: {holder_name(fields)} has been writing for longer than {wait_seconds:g} s; "
                                   f"try again later, or delete {key} if that writer is gone")
        elif waited_for != fields["owner"]:
            log(f"{what}: waiting for {holder_name(fields)} to finish (lease {key})")
            waited_for = fields["owner"]
        time.sleep(poll_seconds)
    if waited_for is not None:
        log(f"{what}: the lease is ours after {time.monotonic() - started:.1f} s of waiting")
    stop = threading.Event()
    beat = None
    if renew_seconds:
        beat = threading.Thread(target=_renew, args=(store, key, owner, lease, renew_seconds, stop, what, log),
                                name=f"lease {key}", daemon=True)
        beat.start()
    try:
        yield
    finally:
        stop.set()
        if beat is not None:
            beat.join()
        current = read_lease(store, key)
        if current is not None and current[1] is not None and current[1]["owner"] == owner:
            store.delete(key)
