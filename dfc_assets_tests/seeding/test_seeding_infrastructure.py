"""Infrastructure mode: a second libtorrent client downloads a magnet whose only source is our seeder (x.pe)."""

from __future__ import annotations

import re
import threading

import httpx

from dfc_assets.publication.context import Publisher
from dfc_assets.publication.torrent import load_torrent
from dfc_assets.seeding import InfrastructureSeeder, SwarmMonitor, run_until_stopped
from dfc_assets.services.local_stack import SERVICES_FILE
from dfc_assets.settings import load_settings
from dfc_assets.torrent.download import download_magnet
from dfc_assets.torrent.seeder import Seeder

from .conftest import BOUNDARY, TABLE, file_sha256, wait_for


def test_a_magnet_with_only_x_pe_downloads_from_the_infrastructure_seeder(published, tmp_path):
    logged: list[str] = []
    with Seeder("127.0.0.1:0", discovery=False) as seeder:
        infrastructure = InfrastructureSeeder(published.store, seeder, log=logged.append)
        added = {(offer.dataset_id, offer.version) for offer in infrastructure.poll()}
        assert {(BOUNDARY.id, "2022-02-09"), (TABLE.id, "2025-06-11")} <= added
        assert infrastructure.poll() == []  # nothing new: a poll adds each version once
        uri = published.peer_only_magnet(TABLE, "2025-06-11", seeder.peer)
        assert "ws=" not in uri and "tr=" not in uri
        got = download_magnet(uri, tmp_path / "client", listen="127.0.0.2:0", timeout=60)

        def uploaded() -> int:  # libtorrent's transfer counters catch up with the last pieces a moment later
            return {s.infohash_v1: s.uploaded for s in seeder.status()}.get(published.infohash(TABLE, "2025-06-11"), 0)

        wait_for(lambda: uploaded() >= got.stat().st_size, 15, "the seeder to count every byte it uploaded")
    assert file_sha256(got) == published.sha256(TABLE, "2025-06-11")
    assert any("seeding" in line and "2025-06-11" in line for line in logged)


def test_the_running_seeder_picks_up_a_version_published_later(published, tmp_path):
    lines: list[str] = []
    stop = threading.Event()
    with Seeder("127.0.0.1:0", discovery=False) as seeder:
        infrastructure = InfrastructureSeeder(published.store, seeder, log=lines.append)
        loop = threading.Thread(target=run_until_stopped, args=(infrastructure.poll, SwarmMonitor(seeder)),
                                kwargs=dict(stop=stop, poll_interval=0.2, status_interval=0.2, log=lines.append))
        loop.start()
        try:
            wait_for(lambda: any(o.version == "2022-02-09" for o in infrastructure.seeding.values()), 30, "first poll")
            published.ensure(BOUNDARY, "2016")
            new = published.infohash(BOUNDARY, "2016")
            wait_for(lambda: new in infrastructure.seeding, 30, "the seeder to add version 2016")
            got = download_magnet(published.peer_only_magnet(BOUNDARY, "2016", seeder.peer), tmp_path / "client",
                                  listen="127.0.0.3:0", timeout=60)
        finally:
            stop.set()
            loop.join(timeout=10)
    assert not loop.is_alive()
    assert file_sha256(got) == published.sha256(BOUNDARY, "2016")
    status = [line for line in lines if re.fullmatch(r"seeding \d+ torrents, \d+ peers, up [\d.]+ MB/s, [\d.]+ MB uploaded", line)]
    assert status, lines


def test_a_magnet_from_the_demo_downloads_through_the_demos_seeder(published, tmp_path):
    settings = load_settings({"DFC_SERVICES_FILE": str(published.services.workdir / SERVICES_FILE)})
    assert settings.seeder_peer == published.urls.seeder_peer == published.services.seeder.peer
    with httpx.Client() as http:
        publisher = Publisher(settings, published.store, http, None, tmp_path / "scratch")  # type: ignore[arg-type]
        torrent = load_torrent(publisher, TABLE, "2025-06-11")
    assert torrent.v1 is not None
    seeding = published.services.seeder.infrastructure
    wait_for(lambda: {torrent.info.infohash_v1, torrent.v1.info.infohash_v1} <= set(seeding.seeding), 30,
             "the embedded seeder to seed both torrents")
    for name, t in (("main", torrent), ("v1", torrent.v1)):
        assert f"x.pe={settings.seeder_peer}" in t.magnet
        # libtorrent ignores xs=: the metadata can only come from the seeder, as the demo's magnet is given
        got = download_magnet(t.magnet, tmp_path / name, listen=f"127.0.0.{4 if name == 'main' else 5}:0", timeout=60)
        assert file_sha256(got) == published.sha256(TABLE, "2025-06-11")
    only_the_seeder = published.peer_only_magnet(TABLE, "2025-06-11", settings.seeder_peer)
    got = download_magnet(only_the_seeder, tmp_path / "peer-only", listen="127.0.0.6:0", timeout=60)
    assert file_sha256(got) == published.sha256(TABLE, "2025-06-11")
