import random
import shutil
from urllib.parse import quote

import pytest

from dfc_assets.torrent.metainfo import build_torrent, read_torrent
from dfc_assets.torrent.options import KIB, TorrentOptions
from dfc_assets.torrent.webseeds import (
    audit_web_seeds,
    file_url,
    sample_pieces,
    verify_web_seed,
    verify_web_seeds,
    with_verified_web_seeds,
)

from .range_server import RangeServer, ServerBehaviour

NAME = "ds_2025 é.parquet"
PIECE = 64 * KIB
SIZE = 40 * PIECE + 999  # 41 pieces, last one short


@pytest.fixture()
def mirror(tmp_path):
    root = tmp_path / "www"
    (root / "good").mkdir(parents=True)
    (root / "good" / NAME).write_bytes(random.Random(11).randbytes(SIZE))
    return root


@pytest.fixture()
def built(mirror):
    return build_torrent(mirror / "good" / NAME, name=NAME, options=TorrentOptions(piece_size=PIECE))


def test_good_mirror_in_both_url_forms(mirror, built):
    with RangeServer(mirror) as server:
        reports = verify_web_seeds(built.data, [server.url + "good/", server.url + "good/" + quote(NAME)])
    for r in reports:
        assert r.ok and r.reason is None and r.range_ok and r.size == SIZE
        assert r.pieces_checked[0] == 0 and r.pieces_checked[-1] == 40 and not r.pieces_failed
    assert reports[0].file_url == reports[1].url


def test_full_verification_checks_every_piece(mirror, built):
    with RangeServer(mirror) as server:
        report = verify_web_seed(built.data, server.url + "good/", full=True)
        gets = [r for m, _, r in server.behaviour.requests if m == "GET"]
    assert report.ok and report.pieces_checked == tuple(range(41))
    assert len(gets) == 1  # pieces are fetched in large spans, not one request per piece


def test_corrupt_missing_wrong_size_and_no_range_mirrors_are_left_out(mirror, built):
    bad_piece = 17
    (mirror / "short").mkdir()
    (mirror / "short" / NAME).write_bytes((mirror / "good" / NAME).read_bytes()[:-1])
    shutil.copytree(mirror / "good", mirror / "corrupt")
    behaviour = ServerBehaviour(corrupt={f"/corrupt/{NAME}": bad_piece * PIECE + 5})
    with RangeServer(mirror, behaviour) as server, RangeServer(mirror, ServerBehaviour(honour_range=False)) as plain:
        candidates = [
            server.url + "good/",
            server.url + "corrupt/",
            server.url + "missing/",
            server.url + "short/",
            plain.url + "good/",
            "http://127.0.0.1:9/closed/",
        ]
        published, reports = with_verified_web_seeds(built, candidates, full=True)
    by_url = {r.url: r for r in reports}
    assert published.web_seeds == (server.url + "good/",)
    assert read_torrent(published.data).web_seeds == (server.url + "good/",)
    assert published.infohash_v1 == built.infohash_v1

    corrupt = by_url[server.url + "corrupt/"]
    assert not corrupt.ok and corrupt.pieces_failed == (bad_piece,) and "do not match" in corrupt.reason
    assert "404" in by_url[server.url + "missing/"].reason
    assert f"{SIZE - 1} bytes" in by_url[server.url + "short/"].reason
    no_range = by_url[plain.url + "good/"]
    assert not no_range.ok and not no_range.range_ok and "206" in no_range.reason
    assert by_url["http://127.0.0.1:9/closed/"].reason.startswith("unreachable")


def test_sampling_catches_corruption_in_a_sampled_piece(mirror, built):
    info = read_torrent(built.data)
    sampled = sample_pieces(info, 3, seed="audit-7")
    assert sampled == sample_pieces(info, 3, seed="audit-7")  # reproducible for one seed
    assert {0, 40} <= set(sampled) and len(sampled) == 5
    victim = sampled[2]
    behaviour = ServerBehaviour(corrupt={f"/good/{NAME}": victim * PIECE})
    with RangeServer(mirror, behaviour) as server:
        report = verify_web_seed(built.data, server.url + "good/", seed="audit-7")
    assert not report.ok and report.pieces_failed == (victim,)


def test_audit_flags_a_mirror_that_goes_bad_after_publication(mirror, built):
    behaviour = ServerBehaviour()
    with RangeServer(mirror, behaviour) as server:
        published, _ = with_verified_web_seeds(built, [server.url + "good/"])
        assert [r.ok for r in audit_web_seeds(published.data, full=True)] == [True]
        behaviour.corrupt[f"/good/{NAME}"] = 40 * PIECE + 3  # someone overwrote the file in place
        (after,) = audit_web_seeds(published.data, full=True)
    assert not after.ok and after.pieces_failed == (40,)


def test_query_strings_are_refused_and_directory_urls_encode_the_name():
    assert file_url("http://h/d/", "a b+ü.parquet") == "http://h/d/a%20b%2B%C3%BC.parquet"
    assert file_url("http://h/d/x.parquet", "ignored") == "http://h/d/x.parquet"


def test_query_string_web_seed_is_refused(built):
    report = verify_web_seed(built.data, "http://127.0.0.1:9/x.parquet?download=1")
    assert not report.ok and "query string" in report.reason
