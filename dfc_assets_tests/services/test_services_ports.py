"""The embedded services' ports: chosen below the ephemeral range, kept per work folder, a clear error when taken."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import httpx
import pytest

from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.services.ports import EMBEDDED_BAND, PortsTaken, ephemeral_low, is_free, unused_port


def test_a_new_port_comes_from_the_band_below_the_ephemeral_range_and_is_free():
    top = ephemeral_low()
    ports = {unused_port("127.0.0.1") for _ in range(20)}
    assert all(top - EMBEDDED_BAND <= port < top for port in ports)
    assert all(is_free("127.0.0.1", port) for port in ports)


def test_a_port_someone_is_bound_to_is_not_free_and_never_chosen():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", unused_port("127.0.0.1")))
        held = holder.getsockname()[1]
        assert not is_free("127.0.0.1", held)
        assert held not in {unused_port("127.0.0.1", taken=set()) for _ in range(50)}


def test_services_restart_on_their_ports_right_after_serving(tmp_path):
    """The connections of the last run (TIME_WAIT on the store's port) do not stop the next start on the same ports."""
    with LocalServices(tmp_path) as urls:
        for _ in range(3):  # the server closes these connections: their TIME_WAIT is on the store's port
            assert httpx.get(urls.store_url + "nothing-here", headers={"Connection": "close"}).status_code == 404
        first = json.loads((tmp_path / "ports.json").read_text())
    with LocalServices(tmp_path) as again:
        assert again.store_url == urls.store_url and again.zenodo_url == urls.zenodo_url
    assert json.loads((tmp_path / "ports.json").read_text()) == first


def test_a_kept_port_in_use_stops_the_start_naming_it_and_the_way_out(tmp_path):
    with LocalServices(tmp_path):
        pass
    ports = json.loads((tmp_path / "ports.json").read_text())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["zenodo"]))
        holder.listen()
        with pytest.raises(PortsTaken) as raised:
            LocalServices(tmp_path).start()
        message = str(raised.value)
        assert f"zenodo {ports['zenodo']}" in message and "ports.json" in message and str(tmp_path) in message
        assert all(is_free("127.0.0.1", port) for name, port in ports.items() if name != "zenodo")  # nothing was started
        assert not (tmp_path / SERVICES_FILE).exists()

        command = subprocess.run([sys.executable, "-m", "dfc_assets.cli.main", "services", "--workdir", str(tmp_path)],
                                 capture_output=True, text=True, timeout=120)
        assert command.returncode == 2, command.stderr
        assert command.stderr.startswith("dfc: the local services of") and "Traceback" not in command.stderr
