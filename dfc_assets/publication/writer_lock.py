"""A lease in the object store that lets one writer at a time replace a shared object (the catalog).

Taken with the store's atomic create-if-absent (If-None-Match on S3, a hard link on a folder); it
expires, so a writer that died never blocks the others for longer than its lease.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dfc_assets.publication.context import PublicationError
from dfc_assets.storage import ObjectStore


@contextmanager
def writer_lock(store: ObjectStore, key: str, *, what: str, lease_seconds: float = 1800, wait_seconds: float = 900,
                poll_seconds: float = 0.5, log: Callable[[str], None] = lambda m: None) -> Iterator[None]:
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + wait_seconds
    announced = False
    while not store.create(key, json.dumps({"owner": owner, "expires": time.time() + lease_seconds}).encode()):
        try:
            holder = json.loads(store.get_bytes(key))
        except (KeyError, ValueError):
            continue  # released (or being written) just now
        if holder.get("expires", 0) < time.time():
            log(f"{what}: the lease of {holder.get('owner')} expired; taking over")
            store.delete(key)
            continue
        if time.monotonic() > deadline:
            raise PublicationError(f"{what}: {holder.get('owner')} has been writing for longer than {wait_seconds:g} s; "
                                   f"try again later, or delete {key} if that writer is gone")
        if not announced:
            log(f"{what}: waiting for {holder.get('owner')} to finish")
            announced = True
        time.sleep(poll_seconds)
    try:
        yield
    finally:
        try:
            if json.loads(store.get_bytes(key)).get("owner") == owner:
                store.delete(key)
        except (KeyError, ValueError):
            pass
