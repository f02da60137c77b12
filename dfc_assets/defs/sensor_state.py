"""The upstream sensor's one state object, state/sensor/sources.json: read once and written once per tick.

It holds what was last seen of each dataset's upstream (``SourceState``) and the upstream releases
seen but not yet published (held back by the release cadence), so a tick costs O(1) store requests
whatever the number of datasets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from dfc_assets.sources.change import SourceState
from dfc_assets.storage import ObjectStore

SENSOR_STATE_KEY = "state/sensor/sources.json"
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
