"""Mirrors of a multi-file version checked for real: every piece before listing, a rotating window for the
audit that covers every piece within its cycle, pad files, and an overall deadline against a trickling mirror."""

import random
import shutil

import pytest

from dfc_assets.torrent.metainfo import build_version_torrents, read_torrent, with_web_seeds
from dfc_assets.torrent.options import KIB, TorrentOptions
from dfc_assets.torrent.webseeds import (
    audit_cycle,
    audit_web_seeds,
    check_pieces,
    rotating_pieces,
    sample_pieces,
    verify_web_seed,
    verify_web_seeds,
    web_seed_file_urls,
)

from .range_server import RangeServer, ServerBehaviour

PIECE = 16 * KIB
DATASET = "ca_test_ds"
VERSION = "2021"
SIZES = {f"{DATASET}_{VERSION}.parquet": 30 * PIECE + 100, f"{DATASET}_{VERSION}.pmtiles": 18 * PIECE + 7}  # 31 + 19 = 50 pieces


@pytest.fixture()
def version(tmp_path):
    """releases/{id}/{version}/ with two files and the hybrid's pad files, as the torrent step writes them."""
    root = tmp_path / "www"
    folder = root / "releases" / DATASET / VERSION
    folder.mkdir(parents=True)
    for i, (name, size) in enumerate(sorted(SIZES.items())):
        (folder / name).write_bytes(random.Random(i).randbytes(size))
    built = build_version_torrents(sorted(folder.iterdir()), folder=VERSION, options=TorrentOptions(piece_size=PIECE))
    for f in read_torrent(built.main.data).files:
        if f.pad:
            (root / "releases" / DATASET / f.path).parent.mkdir(exist_ok=True)
            (root / "releases" / DATASET / f.path).write_bytes(bytes(f.size))
    return root, built


def _byte_of_piece(info, piece: int) -> tuple[str, int]:
    """A (url path, offset in file) inside `piece`, in a data file."""
    start, _ = info.piece_range(piece)
    for f in info.data_files:
        if f.offset <= start < f.offset + f.size:
            return f"/releases/{DATASET}/{f.path}", start - f.offset + 3
    raise AssertionError(f"piece {piece} starts in a pad file")


def test_every_piece_of_both_torrents_is_checked_on_a_good_mirror(version):
    root, built = version
    with RangeServer(root) as server:
        base = server.url + f"releases/{DATASET}/"
        hybrid = verify_web_seed(built.main.data, base, full=True)
        v1 = verify_web_seed(built.v1.data, base, full=True)
        urls = web_seed_file_urls(base, read_torrent(built.main.data))
    info = read_torrent(built.main.data)
    assert info.num_pieces == 50
    assert hybrid.ok and hybrid.pieces_checked == tuple(range(50)), hybrid.reason
    assert v1.ok and v1.pieces_checked == tuple(range(read_torrent(built.v1.data).num_pieces)), v1.reason
    assert urls == {name: base + f"{VERSION}/{name}" for name in SIZES}


def test_one_wrong_byte_in_piece_19_of_50_keeps_the_mirror_out(version):
    root, built = version
    info = read_torrent(built.main.data)
    path, offset = _byte_of_piece(info, 19)
    fixed_sample = sample_pieces(info, 3, seed=info.infohash_v1)
    assert 19 not in fixed_sample  # the sample status and the audit always took would never see it
    with RangeServer(root, ServerBehaviour(corrupt={path: offset})) as server:
        base = server.url + f"releases/{DATASET}/"
        assert verify_web_seed(info, base, seed=info.infohash_v1).ok
        (report,) = verify_web_seeds(built.main.data, [base], full=True)
        (v1_report,) = verify_web_seeds(built.v1.data, [base], full=True)
    assert not report.ok and report.pieces_failed == (19,) and "do not match" in report.reason
    assert not v1_report.ok and v1_report.pieces_failed


def test_the_audit_window_rotates_and_finds_the_wrong_piece_within_its_cycle(version):
    root, built = version
    info = read_torrent(built.main.data)
    budget = 8 * PIECE
    cycle = audit_cycle(info, budget)
    rounds = [rotating_pieces(info, r, budget_bytes=budget) for r in range(cycle)]
    assert cycle == 7 and sorted(p for r in rounds for p in r) == list(range(50))
    assert rotating_pieces(info, cycle, budget_bytes=budget) == rounds[0]
    path, offset = _byte_of_piece(info, 19)
    with RangeServer(root, ServerBehaviour(corrupt={path: offset})) as server:
        base = server.url + f"releases/{DATASET}/"
        reports = [check_pieces(built.main.data, base, pieces) for pieces in rounds]
    assert [r.ok for r in reports] == [True, True, False, True, True, True, True]
    assert reports[2].pieces_failed == (19,) and reports[2].pieces_checked == tuple(range(16, 24))


def test_a_mirror_without_the_pad_files_is_left_out_of_the_hybrid(version):
    root, built = version
    shutil.rmtree(root / "releases" / DATASET / VERSION / ".pad")
    with RangeServer(root) as server:
        base = server.url + f"releases/{DATASET}/"
        hybrid = verify_web_seed(built.main.data, base, full=True)
        v1 = verify_web_seed(built.v1.data, base, full=True)
    assert not hybrid.ok and ".pad/" in hybrid.reason and "404" in hybrid.reason
    assert v1.ok  # the v1 torrent has no pad files


def test_a_trickling_mirror_is_cut_off_by_the_deadline(version):
    root, built = version
    with RangeServer(root, ServerBehaviour(trickle=0.05)) as slow, RangeServer(root) as good:
        # at 512 bytes per 0.05 s the full check would pass after about 80 s; the good mirror has the same deadline
        reports = verify_web_seeds(built.main.data, [slow.url + f"releases/{DATASET}/", good.url + f"releases/{DATASET}/"],
                                   full=True, deadline=10)
    slow_report, good_report = reports
    assert not slow_report.ok and "deadline" in slow_report.reason and len(slow_report.pieces_checked) < 50
    assert good_report.ok


def test_audit_rounds_over_a_published_torrent_cover_every_piece(version):
    root, built = version
    info = read_torrent(built.main.data)
    path, offset = _byte_of_piece(info, 19)
    with RangeServer(root, ServerBehaviour(corrupt={path: offset})) as server:
        torrent = with_web_seeds(built.main.data, [server.url + f"releases/{DATASET}/"])
        budget = 10 * PIECE
        rounds = [audit_web_seeds(torrent, round_number=r, budget_bytes=budget) for r in range(audit_cycle(info, budget))]
    checked = sorted(p for (report,) in rounds for p in report.pieces_checked)
    assert checked == list(range(50))
    assert [report.ok for (report,) in rounds] == [True, False, True, True, True]
