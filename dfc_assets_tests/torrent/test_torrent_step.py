"""The torrent step on a version published to a local store: both torrents, their web seeds in BEP 19
directory form, pad files, and community mirrors listed only when every piece checks out in time."""

import dataclasses

import pytest

from dfc_assets.publication import torrent as torrent_step
from dfc_assets.torrent.metainfo import build_torrent, read_torrent, v1_half
from dfc_assets.torrent.options import TorrentOptions
from dfc_assets.torrent.webseeds import web_seed_file_urls

from .published_version import SPEC, PublishedVersion
from .range_server import RangeServer, ServerBehaviour

TWO_FILES = {"parquet": 3 * 1024 * 1024 + 123, "pmtiles": 2 * 1024 * 1024 + 45}


@pytest.fixture()
def servers():
    started = []

    def start(root, behaviour=None):
        server = RangeServer(root, behaviour).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def _byte_in_piece(published: PublishedVersion, info, piece: int) -> tuple[str, int]:
    start, _ = info.piece_range(piece)
    for f in info.data_files:
        if f.offset <= start < f.offset + f.size:
            return f"/{published.keys.release_prefix}{f.file_name}", start - f.offset + 11
    raise AssertionError(piece)


def test_two_file_version_gets_both_torrents_and_only_mirrors_that_check_out(tmp_path, servers, monkeypatch):
    # the trickling mirror's deadline (about 13 s, a full check would take minutes), which the good web seeds also
    # get: long enough that a loaded machine's stalls do not cut them off
    monkeypatch.setattr(torrent_step, "WEB_SEED_TIMEOUT", 10.0)
    published = PublishedVersion(tmp_path / "pub", "2021", TWO_FILES)
    mirror = published.mirror_copy(tmp_path / "mirror")
    paths = [published.store.root / published.keys.release_prefix / name for name in published.files]
    info = read_torrent(torrent_step.build_version_torrents(paths, folder="2021", options=TorrentOptions()).main.data)
    assert info.num_pieces >= 40
    path, offset = _byte_in_piece(published, info, 19)
    good, corrupt, slow = servers(mirror), servers(mirror, ServerBehaviour(corrupt={path: offset})), servers(mirror, ServerBehaviour(trickle=0.05))
    published.publisher.settings = dataclasses.replace(published.settings, mirror_base_urls=(good.url, corrupt.url, slow.url))
    try:
        result = torrent_step.make_torrent(published.publisher, SPEC, "2021")
        again = torrent_step.make_torrent(published.publisher, SPEC, "2021")
        loaded = torrent_step.load_torrent(published.publisher, SPEC, "2021")
    finally:
        published.close()
    keys = published.keys
    base = published.store.public_url(f"releases/{SPEC.id}/")
    assert result.key == keys.torrent and result.v1.key == keys.torrent_v1 == keys.release_prefix + f"{keys.stem}.v1.torrent"
    assert result.info.multi_file and result.info.name == "2021" and result.info.infohash_v2
    assert result.v1.info.infohash_v2 is None and result.v1.info.infohash_v1 != result.info.infohash_v1
    assert result.info.web_seeds == result.v1.info.web_seeds == (base, f"{good.url}releases/{SPEC.id}/")
    reasons = {r.url: r.reason for r in result.web_seed_reports}
    assert "do not match" in reasons[f"{corrupt.url}releases/{SPEC.id}/"]
    assert "deadline" in reasons[f"{slow.url}releases/{SPEC.id}/"]
    assert {f.file_name for f in result.info.data_files} == set(published.files)
    for pad in (f for f in result.info.files if f.pad):  # served for aria2, which fetches pad files
        assert published.store.get_bytes(f"releases/{SPEC.id}/{pad.path}") == bytes(pad.size)
    assert f"xt=urn:btih:{result.v1.info.infohash_v1}" in result.v1.magnet and "btmh" not in result.v1.magnet
    assert result.v1.url in result.v1.magnet.replace("%3A", ":").replace("%2F", "/")
    assert again.reused and again.data == result.data and loaded.v1.data == result.v1.data
    urls = web_seed_file_urls(base, result.info)
    assert urls == {name: f"{base}2021/{name}" for name in published.files}


def test_single_file_version_keeps_todays_torrent_and_zenodo_web_seed(tmp_path):
    published = PublishedVersion(tmp_path, "2016", {"parquet": 1024 * 1024 + 7})
    try:
        result = torrent_step.make_torrent(published.publisher, SPEC, "2016")
        (name, data), = published.files.items()
        path = tmp_path / name
        path.write_bytes(data)
        options = torrent_step.torrent_options(published.publisher, SPEC, "2016", "10.5281/zenodo.4242")
        today = build_torrent(path, name=name, options=options, web_seeds=result.info.web_seeds)
    finally:
        published.close()
    assert not result.info.multi_file and result.info.name == name
    assert result.data == today.data and result.info.infohash_v1 == today.infohash_v1
    assert result.v1.data == v1_half(result.data)
    assert result.info.web_seeds == (f"{published.zenodo_server.base_url}/records/4242/files/",
                                     published.store.public_url(published.keys.release_prefix))


def test_a_version_published_before_v1_torrents_gets_one_without_reading_its_file(tmp_path):
    published = PublishedVersion(tmp_path, "2016", {"parquet": 300_000})
    try:
        first = torrent_step.make_torrent(published.publisher, SPEC, "2016")
        published.store.delete(published.keys.torrent_v1)
        (name,) = published.files
        published.store.delete(published.keys.release_prefix + name)  # nothing left to read
        again = torrent_step.make_torrent(published.publisher, SPEC, "2016")
    finally:
        published.close()
    assert again.data == first.data and again.v1.data == first.v1.data


def test_status_verify_and_audit_checks_of_a_published_version(tmp_path, servers):
    published = PublishedVersion(tmp_path / "pub", "2021", TWO_FILES)
    try:
        torrent = torrent_step.make_torrent(published.publisher, SPEC, "2021")
        mirror = published.mirror_copy(tmp_path / "mirror")
        path, offset = _byte_in_piece(published, torrent.info, 19)
        late = servers(mirror, ServerBehaviour(corrupt={path: offset}))  # configured after publication
        published.publisher.settings = dataclasses.replace(published.settings, mirror_base_urls=(late.url,))
        full = torrent_step.check_web_seeds(published.publisher, SPEC, "2021", full=True)
        budget = 16 * torrent.info.piece_size
        rounds = [torrent_step.check_web_seeds(published.publisher, SPEC, "2021", round_number=r, budget_bytes=budget)
                  for r in range(-(-torrent.info.num_pieces // 16))]
    finally:
        published.close()
    assert [r.url for r in full] == [*torrent.info.web_seeds, f"{late.url}releases/{SPEC.id}/"]
    assert [r.ok for r in full] == [True, False] and full[1].pieces_failed == (19,)
    assert [[r.ok for r in reports] for reports in rounds] == [[True, True], [True, False], [True, True]]  # 16-31 hold 19
    assert sorted(p for reports in rounds for p in reports[0].pieces_checked) == list(range(torrent.info.num_pieces))
