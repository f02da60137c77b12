"""The upstream sensor's one state object, state/sensor/sources.json: read once and written once per tick.

It holds what was last seen of each dataset's upstream (``SourceState``) and the upstream releases
seen but not yet published (held back by the release cadence), so a tick costs O(1) store requests
whatever the number of datasets. Two sensors (upstream changes and the daily check) tick over it: a tick
reads, decides and writes under a lease in the store (``sensor_state``), so overlapping ticks take turns
and neither overwrites what the other found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from dfc_assets.publication.writer_lock import writer_lock
from dfc_assets.sources.change import SourceState
from dfc_assets.storage import ObjectStore

SENSOR_STATE_KEY = "state/sensor/sources.json"
SENSOR_STATE_LEASE = "state/sensor/sources.lease"
TICK_LEASE_SECONDS = 600  # longer than any tick; a lease left by a dead daemon is taken over after it
FORMAT = 1


@dataclass
class SensorState:
    sources: dict[str, SourceState] = field(default_factory=dict)
    # dataset key -> upstream releases (release times or version keys) not yet in a published version
    pending: dict[str, list[str]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # other fields (e.g. the day of the last cube-list refresh)

    @classmethod
    def from_json(cls, data: Mapping) -> "SensorState":
        return cls(
            sources={key: SourceState.from_dict(value) for key, value in (data.get("sources") or {}).items()},
            pending={key: list(value) for key, value in (data.get("pending") or {}).items()},
            extra=dict(data.get("extra") or {}),
        )

    def to_json(self) -> bytes:
        return json.dumps({
            "format": FORMAT,
            "sources": {key: self.sources[key].to_dict() for key in sorted(self.sources)},
            "pending": {key: self.pending[key] for key in sorted(self.pending) if self.pending[key]},
            "extra": self.extra,
        }, sort_keys=True, separators=(",", ":")).encode()


def read_sensor_state(store: ObjectStore) -> SensorState:
    try:
        data = json.loads(store.get_bytes(SENSOR_STATE_KEY))
    except KeyError:
        return SensorState()
    except ValueError:
        data = None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError(f"{SENSOR_STATE_KEY}: not a sensor state of format {FORMAT}; delete it to start over (every source is then checked in full)")
    return SensorState.from_json(data)


def write_sensor_state(store: ObjectStore, state: SensorState) -> None:
    store.put_bytes(SENSOR_STATE_KEY, state.to_json(), content_type="application/json")


@contextmanager
def sensor_state(store: ObjectStore, *, log: Callable[[str], None] = lambda message: None,
                 wait_seconds: float = 120) -> Iterator[SensorState]:
    """The state for one tick, read once under the lease and written once when the block ends without an error."""
    with writer_lock(store, SENSOR_STATE_LEASE, what="sensor state", lease_seconds=TICK_LEASE_SECONDS, wait_seconds=wait_seconds, log=log):
        state = read_sensor_state(store)
        yield state
        write_sensor_state(store, state)
