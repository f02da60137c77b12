"""The sensor's one state object in the store: round trip, absent, refused when it is not one."""

from __future__ import annotations

import pytest

from dfc_assets.defs.sensor_state import SENSOR_STATE_KEY, SensorState, read_sensor_state, write_sensor_state
from dfc_assets.sources.change import SourceState
from dfc_assets.storage import LocalFolderStore


def test_round_trip_through_the_store(tmp_path):
    store = LocalFolderStore(tmp_path, "http://127.0.0.1:9/")
    assert read_sensor_state(store) == SensorState()
    state = SensorState(sources={"statcan_table_33100036": SourceState(version="2025-06-11", release_time="2025-06-11T12:30:00+00:00")},
                        pending={"statcan_table_33100036": [{"version": "2025-06-12", "released_at": "2025-06-12T12:30:00+00:00"}], "gone": []},
                        extra={"last_tick": "2025-06-12T13:00:00+00:00"})
    write_sensor_state(store, state)
    again = read_sensor_state(store)
    assert again.sources == state.sources and again.extra == state.extra
    assert again.pending == {"statcan_table_33100036": state.pending["statcan_table_33100036"]}  # empty lists are not kept


@pytest.mark.parametrize("content", [b"[]", b"not json", b'{"sources": {}}', b'{"format": 2}'])
def test_anything_else_is_refused_naming_the_object(tmp_path, content):
    store = LocalFolderStore(tmp_path, "http://127.0.0.1:9/")
    store.put_bytes(SENSOR_STATE_KEY, content)
    with pytest.raises(ValueError, match="state/sensor/sources.json"):
        read_sensor_state(store)
