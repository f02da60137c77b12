"""`dfc seed` from the command line, on a published version of the embedded default."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dfc_assets.cli.embedded import embedded
from dfc_assets.cli.main import main
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.storage import TORRENT_FEED, VersionKeys
from dfc_assets.torrent.download import download_magnet
from dfc_assets.torrent.magnet import magnet_uri
from dfc_assets.torrent.metainfo import read_torrent

BOUNDARY = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")
KEYS = VersionKeys(BOUNDARY.id, "2022-02-09")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("seed_cli")
    saved = {name: os.environ.get(name) for name in ("DFC_SERVICES_FILE", "DAGSTER_HOME")}
    try:
        with LocalServices(workdir) as urls, embedded(workdir, say=lambda message: None) as run:
            assert run.publish(BOUNDARY, "2022-02-09") is None
            assert run.build_catalog() is None
            yield workdir, urls
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


class Lines:
    """A child's stdout, line by line, without blocking the test on a silent child."""

    def __init__(self, stream) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self._queue.put(line.rstrip("\n")) for line in stream], daemon=True).start()

    def wait_for(self, pattern: str, timeout: float = 120, occurrences: int = 1) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            matches = [match for line in self.seen if (match := re.search(pattern, line))]
            if len(matches) >= occurrences:
                return matches[0]
            try:
                self.seen.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; got: {self.seen}") from None


def test_infrastructure_seeder_prints_its_peer_and_serves_a_magnet(stack, tmp_path):
    workdir, _ = stack
    env = dict(os.environ, DFC_SERVICES_FILE=str(workdir / SERVICES_FILE))
    command = [sys.executable, "-m", "dfc_assets.cli.main", "seed", "infrastructure", "--workdir", str(workdir),
               "--listen", "127.0.0.1:0", "--no-discovery", "--interval", "0.5", "--status-interval", "0.5"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = Lines(child.stdout)
        peer = lines.wait_for(r"DFC_SEEDER_PEER=(\S+)")[1]
        lines.wait_for(rf"seeding {re.escape(BOUNDARY.id)} version 2022-02-09")
        # libtorrent starts an added torrent at its next tick (a peer dropped before then waits 60 s to retry):
        # three status lines 0.5 s apart are past it (2 torrents: the version's main and v1 torrents)
        lines.wait_for(r"seeding 2 torrents", occurrences=3)
        info = read_torrent((Path(workdir) / "store" / KEYS.torrent).read_bytes())
        uri = magnet_uri(dataclasses.replace(info, web_seeds=(), trackers=()), peer=peer)
        got = download_magnet(uri, tmp_path / "client", listen="127.0.0.2:0", timeout=60)
        lines.wait_for(r"seeding 2 torrents, \d+ peers, up [\d.]+ MB/s")
    finally:
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=30)
    assert code == 0 and "stopped" in lines.wait_for("stopped")[0]
    manifest = json.loads((Path(workdir) / "store" / KEYS.manifest).read_text())
    for f in manifest["files"]:  # the boundary version is two files: the torrent is the folder {version}
        assert hashlib.sha256((got / f["name"]).read_bytes()).hexdigest() == f["sha256"]


def test_volunteer_once_downloads_what_fits_and_nothing_when_nothing_fits(stack, tmp_path, capsys):
    _, urls = stack
    feed, data_dir = urls.store_url + TORRENT_FEED, tmp_path / "volunteer"
    common = ["--data-dir", str(data_dir), "--listen", "127.0.0.3:0", "--no-discovery", "--once"]
    assert main(["seed", "volunteer", feed, "--budget", "1kB", *common]) == 0
    assert not any(data_dir.rglob("*.parquet"))
    assert main(["seed", "volunteer", feed, "--budget", "1MB", "--dataset", BOUNDARY.key, "--latest-only", *common]) == 0
    (got,) = data_dir.rglob("*.parquet")
    assert got == data_dir / BOUNDARY.id / "2022-02-09" / "2022-02-09" / KEYS.artifact_name  # beside its PMTiles
    assert "seeding 2 torrents" in capsys.readouterr().out  # the version's main and v1 torrents, from one copy


def test_an_unreadable_budget_is_refused_with_an_example(tmp_path):
    with pytest.raises(SystemExit, match="500GB"):
        main(["seed", "volunteer", "http://127.0.0.1:9/feeds/torrents.xml", "--data-dir", str(tmp_path), "--budget", "lots"])
