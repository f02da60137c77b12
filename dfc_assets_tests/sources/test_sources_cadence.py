"""The cadence decision: releases inside the window coalesce into one version at the window's end."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dfc_assets.registry import load_registry
from dfc_assets.sources.cadence import PublishNow, Release, WaitUntil, decide, version_interval_days

DAY0 = datetime(2025, 6, 11, 12, 30, tzinfo=timezone.utc)


def release(days: int) -> Release:
    moment = DAY0 + timedelta(days=days)
    return Release(moment.strftime("%Y-%m-%d"), moment)


def test_five_consecutive_daily_changes_inside_the_window_yield_one_version():
    pending: list[Release] = []
    decisions = []
    for day in range(1, 6):
        pending.append(release(day))
        decisions.append(decide(last_release=DAY0, pending=pending, now=DAY0 + timedelta(days=day, hours=1), min_interval_days=21,
                                taken_versions=["2025-06-11"]))
    assert all(isinstance(d, WaitUntil) and d.until == DAY0 + timedelta(days=21) for d in decisions)
    at_window_end = decide(last_release=DAY0, pending=pending, now=DAY0 + timedelta(days=21), min_interval_days=21, taken_versions=["2025-06-11"])
    assert isinstance(at_window_end, PublishNow)
    assert at_window_end.version == "2025-06-16" and [r.version for r in at_window_end.releases] == [
        "2025-06-12", "2025-06-13", "2025-06-14", "2025-06-15", "2025-06-16"]


def test_the_first_version_and_a_zero_interval_publish_at_once():
    first = decide(last_release=None, pending=[release(0)], now=DAY0, min_interval_days=21)
    assert first == PublishNow("2025-06-11", (release(0),))
    at_once = decide(last_release=DAY0, pending=[release(1)], now=DAY0 + timedelta(days=1), min_interval_days=0, taken_versions=["2025-06-11"])
    assert isinstance(at_once, PublishNow) and at_once.version == "2025-06-12"


def test_a_release_after_a_quiet_window_publishes_at_once():
    late = decide(last_release=DAY0, pending=[release(40)], now=DAY0 + timedelta(days=40, minutes=5), min_interval_days=21)
    assert isinstance(late, PublishNow) and late.version == "2025-07-21"


def test_nothing_pending_or_only_already_published_releases_is_no_decision():
    assert decide(last_release=DAY0, pending=[], now=DAY0, min_interval_days=21) is None
    assert decide(last_release=DAY0, pending=[release(0), release(-3)], now=DAY0 + timedelta(days=30), min_interval_days=21) is None


def test_a_taken_version_key_gets_a_counter_and_duplicates_collapse():
    decision = decide(last_release=None, pending=[release(0), release(0)], now=DAY0, min_interval_days=0, taken_versions=["2025-06-11"])
    assert decision == PublishNow("2025-06-11.1", (release(0),))


def test_releases_round_trip_through_the_state_object():
    assert Release.from_dict(release(3).to_dict()) == release(3)


def test_defaults_per_kind():
    specs = {spec.key: spec for spec in load_registry()}
    assert version_interval_days(specs["statcan_table_33100036"]) == 21
    assert version_interval_days(specs["fixture_provinces_territories"]) == 0
