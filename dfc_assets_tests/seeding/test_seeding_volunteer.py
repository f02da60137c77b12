"""Volunteer mode on published versions: budgeted choice, a magnet served by the volunteer, eviction, latest-only."""

from __future__ import annotations

import httpx
import pytest

from dfc_assets.publication.published import Published as PublishedState
from dfc_assets.seeding import Selection, VolunteerSeeder, choose, read_offers
from dfc_assets.torrent.download import download_magnet
from dfc_assets.torrent.metainfo import read_torrent
from dfc_assets.torrent.seeder import Seeder

from .conftest import BOUNDARY, TABLE, file_sha256



def swarms(published, spec, version) -> set[str]:
    """The v1 info-hashes of the version's two torrents (main and v1): a volunteer seeds both."""
    v = PublishedState(published.store).version(spec.id, version)
    return {read_torrent(t.data).infohash_v1 for t in (v.torrent, v.torrent_v1)}


def version_bytes(published, spec, version) -> int:
    """Every file of the version (the boundary fixture: its GeoParquet and its PMTiles)."""
    return sum(f.size for f in PublishedState(published.store).version(spec.id, version).files)


@pytest.fixture()
def three_versions(published):
    published.ensure(BOUNDARY, "2016")  # published after 2022-02-09, older in release order
    return published


def folder(data_dir, spec, version):
    return data_dir / spec.id / version


def test_a_volunteer_seeds_what_fits_its_budget_and_serves_it_by_magnet(three_versions, tmp_path):
    published, data_dir = three_versions, tmp_path / "volunteer"
    budget = sum(version_bytes(published, BOUNDARY, v) for v in ("2016", "2022-02-09")) + 1_000  # the table does not fit
    assert version_bytes(published, TABLE, "2025-06-11") > budget
    with httpx.Client() as http, Seeder("127.0.0.5:0", discovery=False) as seeder:
        volunteer = VolunteerSeeder(published.catalog_url, seeder, Selection(budget_bytes=budget), data_dir=data_dir,
                                    http=http, log=lambda line: None)
        result = volunteer.sync()
        assert sorted((o.dataset_id, o.version) for o in result.chosen) == [(BOUNDARY.id, "2016"), (BOUNDARY.id, "2022-02-09")]
        assert result.failed == {} and len(result.added) == 2
        assert {s.infohash_v1 for s in seeder.status()} == swarms(published, BOUNDARY, "2016") | swarms(published, BOUNDARY, "2022-02-09")
        got = download_magnet(published.peer_only_magnet(BOUNDARY, "2016", seeder.peer), tmp_path / "client",
                              listen="127.0.0.6:0", timeout=60)
    for version in ("2016", "2022-02-09"):
        kept = folder(data_dir, BOUNDARY, version)
        assert file_sha256(kept) == published.sha256(BOUNDARY, version)
    assert not (data_dir / TABLE.id).exists()
    assert file_sha256(got) == published.sha256(BOUNDARY, "2016")


def test_a_smaller_budget_evicts_the_older_version_and_keeps_the_file_it_already_has(three_versions, tmp_path):
    published, data_dir = three_versions, tmp_path / "volunteer"
    only_boundary = Selection(datasets=(BOUNDARY.id,), budget_bytes=10**9)
    newest = folder(data_dir, BOUNDARY, "2022-02-09") / "2022-02-09" / f"{BOUNDARY.id}_2022-02-09.parquet"  # a two-file torrent: folder {version}
    with httpx.Client() as http, Seeder("127.0.0.7:0", discovery=False) as seeder:
        first = VolunteerSeeder(published.feed_url, seeder, only_boundary, data_dir=data_dir, http=http, log=lambda line: None)
        assert len(first.sync().added) == 2
        before = newest.stat()
    logged: list[str] = []
    with httpx.Client() as http, Seeder("127.0.0.7:0", discovery=False) as seeder:  # a restart with a smaller budget
        smaller = Selection(datasets=(BOUNDARY.id,), budget_bytes=version_bytes(published, BOUNDARY, "2022-02-09") + 1_000)
        result = VolunteerSeeder(published.feed_url, seeder, smaller, data_dir=data_dir, http=http, log=logged.append).sync()
        assert {s.infohash_v1 for s in seeder.status()} == swarms(published, BOUNDARY, "2022-02-09")
    assert [(o.version) for o in result.chosen] == ["2022-02-09"]
    assert result.dropped == [f"{BOUNDARY.id} version 2016"]
    assert not folder(data_dir, BOUNDARY, "2016").exists()
    after = newest.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # verified in place, not re-written
    assert any("verified the file already here" in line for line in logged)


def test_latest_only_follows_release_order_not_publication_time(three_versions):
    with httpx.Client() as http:
        offers = read_offers(three_versions.feed_url, http)
    chosen = choose(offers, Selection(datasets=("ca_dfc-fixture_*",), latest_only=True))
    assert [(o.dataset_id, o.version) for o in chosen] == [(BOUNDARY.id, "2022-02-09")]
    assert {o.version for o in offers if o.dataset_id == BOUNDARY.id} == {"2016", "2022-02-09"}
