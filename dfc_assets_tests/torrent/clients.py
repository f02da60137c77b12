"""Start real BitTorrent clients (aria2c, transmission-daemon, qbittorrent-nox) on loopback for interop tests."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from dfc_assets_tests.ports import free_port


def wait_until(predicate, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


@contextlib.contextmanager
def running(cmd: list[str], log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def aria2_download(torrent: Path, out: Path, log: Path, timeout: float = 60) -> int:
    cmd = [
        "aria2c", "-T", str(torrent), f"--dir={out}", "--enable-dht=false", "--enable-dht6=false",
        "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--seed-time=0", "--bt-stop-timeout=30",
        "--check-integrity=true", f"--listen-port={free_port()}", "--file-allocation=none",
        "--console-log-level=warn", "--summary-interval=0",
    ]
    with open(log, "wb") as f:
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout).returncode


class TransmissionDaemon:
    """transmission-daemon 3.00 driven over its JSON-RPC (no transmission-remote needed)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.rpc_port = free_port()
        self.log = workdir / "transmission.log"
        self._session_id = ""

    def command(self, out: Path) -> list[str]:
        return [
            "transmission-daemon", "-f", "-g", str(self.workdir / "cfg"), "-w", str(out), "-O", "-Y", "-M", "-T",
            "-p", str(self.rpc_port), "-r", "127.0.0.1", "-P", str(free_port()), "-i", "127.0.0.1",
            "--log-info", "-e", str(self.log),
        ]

    def rpc(self, method: str, **arguments) -> dict:
        url = f"http://127.0.0.1:{self.rpc_port}/transmission/rpc"
        body = {"method": method, "arguments": arguments}
        for _ in range(2):
            resp = httpx.post(url, json=body, headers={"X-Transmission-Session-Id": self._session_id}, timeout=10)
            if resp.status_code == 409:
                self._session_id = resp.headers["X-Transmission-Session-Id"]
                continue
            resp.raise_for_status()
            answer = resp.json()
            if answer["result"] != "success":
                raise AssertionError(f"transmission {method}: {answer['result']}")
            return answer["arguments"]
        raise AssertionError("transmission kept answering 409")

    def ready(self) -> bool:
        try:
            self.rpc("session-get")
            return True
        except (httpx.HTTPError, AssertionError):
            return False

    def add(self, torrent: bytes, out: Path) -> int:
        added = self.rpc("torrent-add", metainfo=base64.b64encode(torrent).decode(), **{"download-dir": str(out)})
        entry = added.get("torrent-added") or added.get("torrent-duplicate")
        return entry["id"]

    def percent_done(self, torrent_id: int) -> float:
        (t,) = self.rpc("torrent-get", ids=[torrent_id], fields=["percentDone", "error", "errorString"])["torrents"]
        return t["percentDone"]


class QBittorrent:
    """qbittorrent-nox with a pre-seeded headless profile, driven over its Web API from 127.0.0.1."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.webui_port = free_port()
        self.log = workdir / "qbittorrent.log"
        config = workdir / "profile" / "qBittorrent" / "config"
        config.mkdir(parents=True)
        (config / "qBittorrent.conf").write_text(
            "[LegalNotice]\nAccepted=true\n"
            "[BitTorrent]\nSession\\DHTEnabled=false\nSession\\LSDEnabled=false\nSession\\PeXEnabled=false\n"
            f"Session\\Port={free_port()}\nSession\\Interface=lo\n"
            "[Preferences]\nConnection\\UPnP=false\nWebUI\\Address=127.0.0.1\n"
            f"WebUI\\Port={self.webui_port}\nWebUI\\LocalHostAuth=false\nWebUI\\CSRFProtection=false\n"
        )

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.webui_port}/api/v2"

    def command(self) -> list[str]:
        return ["qbittorrent-nox", f"--profile={self.workdir / 'profile'}", f"--webui-port={self.webui_port}"]

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.api}/app/version", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def add(self, torrent: bytes, out: Path) -> None:
        resp = httpx.post(
            f"{self.api}/torrents/add",
            files={"torrents": ("t.torrent", torrent, "application/x-bittorrent")},
            data={"savepath": str(out)},
            timeout=10,
        )
        assert resp.status_code == 200 and resp.text.strip() == "Ok.", resp.text

    def progress(self, infohash_v1: str) -> float:
        infos = httpx.get(f"{self.api}/torrents/info", timeout=5).json()
        for t in infos:
            if infohash_v1 in (t.get("hash"), t.get("infohash_v1")):
                return t["progress"] if t["state"] not in ("checkingUP", "checkingDL") else 0.0
        return 0.0
