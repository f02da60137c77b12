"""A lease in the object store that lets one writer at a time replace a shared object (the catalog).

Taken with the store's atomic create-if-absent (If-None-Match on S3, a hard link on a folder). A lease heals:
one whose owner is gone (a dead process on this host) or that expired is taken over, and so is a lease object
that is empty or not a lease (a torn or foreign write), with a log line saying so. Only one waiter takes a
given stale lease over: the takeover is itself claimed with create-if-absent on ``{key}.takeover-{token}``.
"""

from __future__ import annotations

import json
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


@contextmanager
def writer_lock(store: ObjectStore, key: str, *, what: str, lease_seconds: float = 1800, wait_seconds: float = 900,
                poll_seconds: float = 0.5, log: Callable[[str], None] = lambda m: None) -> Iterator[None]:
    me = this_process()
    owner = f"{me['host']}:{me['pid']}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait_seconds
    announced = False
    while not store.create(key, json.dumps({"owner": owner, **me, "expires": time.time() + lease_seconds}).encode()):
        lease = read_lease(store, key)
        if lease is None:
            continue  # released just now: try again at once
        data, holder = lease
        reason = why_stale(holder, time.time())
        if reason is not None:
            if take_over(store, key, data, owner, me):
                log(f"{what}: {reason}; taking over")
                continue
        elif time.monotonic() > deadline:
            raise PublicationError(f"{what}: {holder['owner']} has been writing for longer than {wait_seconds:g} s; "
                                   f"try again later, or delete {key} if that writer is gone")
        elif not announced:
            log(f"{what}: waiting for {holder['owner']} to finish")
            announced = True
        time.sleep(poll_seconds)
    try:
        yield
    finally:
        lease = read_lease(store, key)
        if lease is not None and lease[1] is not None and lease[1]["owner"] == owner:
            store.delete(key)
