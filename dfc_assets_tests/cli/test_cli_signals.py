"""Issue 12.1: commands stop cleanly on SIGTERM and SIGINT, their children included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dfc_assets_tests.conftest import free_port


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def start(stderr: Path, *argv: str) -> subprocess.Popen:
    """The command, its stdout read by the test, its stderr in a file (dagster dev's logs would fill an unread pipe)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DFC_", "DAGSTER_"))}
    with stderr.open("w", encoding="utf-8") as errors:
        return subprocess.Popen([sys.executable, "-m", "dfc_assets.cli.main", *argv], stdout=subprocess.PIPE, stderr=errors,
                                text=True, env=env, start_new_session=True)


def wait_for_line(stream, text: str) -> str:
    seen = []
    for line in stream:
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"never printed {text!r}: {''.join(seen)}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_services_stop_on_signals(tmp_path, signum):
    process = start(tmp_path / "stderr.log", "services", "--workdir", str(tmp_path))
    wait_for_line(process.stdout, "services_file")
    assert (tmp_path / "services.json").exists()
    process.send_signal(signum)
    process.communicate(timeout=60)
    err = (tmp_path / "stderr.log").read_text(encoding="utf-8")
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert not (tmp_path / "services.json").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_dev_stops_dagster_dev_and_its_children(tmp_path, signum):
    port = free_port()
    process = start(tmp_path / "stderr.log", "dev", "--workdir", str(tmp_path), "--port", str(port))
    try:
        wait_for_line(process.stdout, "local services")
        deadline = time.monotonic() + 300
        while len(descendants(process.pid)) < 3:  # dagster dev, its webserver and its daemon
            assert process.poll() is None and time.monotonic() < deadline, "dagster dev did not start"
            time.sleep(0.5)
        children = descendants(process.pid)
        process.send_signal(signum)
        process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    err = (tmp_path / "stderr.log").read_text(encoding="utf-8")
    assert process.returncode == 130, err[-3000:]
    assert not [pid for pid in children if alive(pid)], "children of dfc dev outlived it"
    assert not (tmp_path / "services.json").exists()
