"""One publisher of a dataset at a time, whatever launched it (a sensor's batch, a retry, the UI, `dfc backfill`, the
embedded runner): every step takes its dataset's lease around the work on one version.

Two runs over one dataset race on its Zenodo concept (one new-version draft per concept; a first publication
creates the concept), on `processed/` (the latest pointer) and on the version's write-once files. The queue's
tag limits keep most such runs apart, but not a batch run and a single-dataset run of one of its members, nor two
backfill ranges, nor runs that never pass the queue; this lease does, in the domain, for all of them.

The lease is ``writer_lock`` on ``state/publishing/{dataset id}.lease`` (``storage.keys.publishing_lease``):
short (``LEASE_SECONDS``), renewed while held, so a holder that died on another host frees it within that time
(on this host at once: its process is gone). A step first looks whether its version is done (its usual read,
nothing more: a rerun of published versions takes no lease); if not, it takes the lease, looks again (the run it
waited for may have done it) and only then works. The waiter's log names the run and step it waits for. Cost per
version and step that works: one conditional PUT, one GET and one DELETE, plus a PUT and a GET per renewal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.writer_lock import writer_lock
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage.keys import publishing_lease

LEASE_SECONDS = 120.0   # how long a holder that died on another host blocks its dataset
RENEW_SECONDS = 30.0    # the holder's heartbeat
WAIT_SECONDS = 6 * 3600.0  # a live holder is waited for this long (a step of one version: a 50 GB Zenodo upload fits)
POLL_SECONDS = 0.5

T = TypeVar("T")


@contextmanager
def dataset_lease(publisher: Publisher, spec: DatasetSpec, version: str, step: str, *,
                  lease_seconds: float = LEASE_SECONDS, renew_seconds: float = RENEW_SECONDS,
                  wait_seconds: float = WAIT_SECONDS, poll_seconds: float = POLL_SECONDS) -> Iterator[None]:
    """Hold ``spec``'s publishing lease while ``step`` works on ``version``; wait (logging for whom) while another holds it."""
    holder = f"{publisher.holder or 'a publisher'}, step {step} of version {version}"
    with writer_lock(publisher.store, publishing_lease(spec.id), what=f"{label(spec, version)}, step {step}", holder=holder,
                     lease_seconds=lease_seconds, renew_seconds=renew_seconds, wait_seconds=wait_seconds,
                     poll_seconds=poll_seconds, log=publisher.log):
        yield


def done_or_do(publisher: Publisher, spec: DatasetSpec, version: str, step: str,
               done: Callable[[], T | None], work: Callable[[], T]) -> T:
    """``done()`` when it finds the step's result; else ``work()`` under the dataset's lease, unless ``done()`` finds
    it once the lease is ours (another run did the work while this one waited)."""
    found = done()
    if found is not None:
        return found
    with dataset_lease(publisher, spec, version, step):
        found = done()
        return found if found is not None else work()
