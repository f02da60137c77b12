"""Long-running child processes for the topology and browser tests: own process group, log file, sure cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dfc_assets_tests.ports import free_port  # noqa: F401 - the tests import it from here


class ManagedProcess:
    """A server started in its own session so that it and every child it forks can be killed together."""

    def __init__(self, name: str, command: Sequence[str], *, env: Mapping[str, str], log_dir: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.log_path = Path(log_dir) / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(list(command), env=dict(env), cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_seconds: float = 10.0) -> None:
        """SIGTERM to the whole group, then SIGKILL: background children may ignore SIGTERM."""
        group = self.process.pid
        for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            if not _group_alive(group):
                break
            if sig == signal.SIGTERM:
                time.sleep(0.5)
        try:
            os.killpg(group, signal.SIGKILL)  # leftovers of the group (run workers), if any
        except ProcessLookupError:
            pass
        self._log.close()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.5,
               processes: Sequence[ManagedProcess] = ()) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` and the logs of dead processes."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        for process in processes:
            if not process.alive():
                raise AssertionError(f"{process.name} exited with {process.process.returncode} while waiting for {what}:\n{process.log_tail()}")
        try:
            value = condition()
        except Exception as error:  # not ready yet: connection refused, partial state
            last_error, value = error, None
        if value:
            return value
        time.sleep(interval)
    logs = "\n".join(f"--- {p.name} ---\n{p.log_tail()}" for p in processes)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error!r})\n{logs}")
