"""Choosing versions within a budget, and reading budgets."""

from __future__ import annotations

import pytest

from dfc_assets.seeding import Offer, Selection, choose
from dfc_assets.seeding.selection import parse_size


def offer(dataset: str, version: str, size: int) -> Offer:
    return Offer(dataset, version, f"{dataset}_{version}.parquet", size, f"{dataset}-{version}")


OFFERS = [offer("a", "2021", 40), offer("a", "2022", 50), offer("a", "2022.1", 50), offer("b", "2020", 30), offer("b", "2024", 200)]


def chosen(selection: Selection) -> list[tuple[str, str]]:
    return [(o.dataset_id, o.version) for o in choose(OFFERS, selection)]


def test_newest_of_every_dataset_first_then_older_ones_that_still_fit():
    # round 1: a 2022.1 (50) fits, b 2024 (200) does not; round 2: a 2022 (50), b 2020 (30); round 3: a 2021 (40) does not
    assert chosen(Selection(budget_bytes=140)) == [("a", "2022.1"), ("a", "2022"), ("b", "2020")]


def test_no_budget_takes_everything_and_latest_only_one_per_dataset():
    assert len(chosen(Selection())) == len(OFFERS)
    assert chosen(Selection(latest_only=True)) == [("a", "2022.1"), ("b", "2024")]
    assert chosen(Selection(latest_only=True, budget_bytes=100)) == [("a", "2022.1")]


def test_dataset_filter_takes_ids_and_patterns():
    assert {d for d, _ in chosen(Selection(datasets=("b",)))} == {"b"}
    assert {d for d, _ in chosen(Selection(datasets=("[ab]",)))} == {"a", "b"}
    assert chosen(Selection(datasets=("c",))) == []


@pytest.mark.parametrize("text, size", [("1048576", 1048576), ("500GB", 500 * 10**9), ("1.5 TiB", int(1.5 * 2**40)), ("20g", 20 * 10**9)])
def test_sizes(text, size):
    assert parse_size(text) == size


def test_an_unreadable_size_says_how_to_write_one():
    with pytest.raises(ValueError, match="500GB"):
        parse_size("lots")
