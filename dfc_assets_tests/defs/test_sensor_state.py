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


def overlapping_ticks(store, names: list[str]) -> None:
    """Ticks that all read the state before any writes it (without the lease, the last write would win)."""
    import threading
    import time

    from dfc_assets.defs.sensor_state import sensor_state

    started = threading.Barrier(len(names))

    def tick(name: str) -> None:
        started.wait()
        with sensor_state(store, wait_seconds=60) as state:
            state.sources[name] = SourceState(version=f"{name}-version")
            time.sleep(0.3)  # both would be inside here at once without the lease

    threads = [threading.Thread(target=tick, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_overlapping_ticks_of_two_sensors_keep_what_each_found_on_a_folder(tmp_path):
    store = LocalFolderStore(tmp_path, "http://127.0.0.1:9/")
    overlapping_ticks(store, ["dfc_upstream_changes", "dfc_daily_source_check"])
    assert set(read_sensor_state(store).sources) == {"dfc_upstream_changes", "dfc_daily_source_check"}
    assert not (tmp_path / "state/sensor/sources.lease").exists()


def test_overlapping_ticks_of_two_sensors_keep_what_each_found_on_s3(s3_bucket):
    from dfc_assets.storage import S3ObjectStore

    client, bucket = s3_bucket
    store = S3ObjectStore(client, bucket, "http://127.0.0.1:9/")
    overlapping_ticks(store, ["dfc_upstream_changes", "dfc_daily_source_check"])
    assert set(read_sensor_state(store).sources) == {"dfc_upstream_changes", "dfc_daily_source_check"}
    assert store.head("state/sensor/sources.lease") is None
