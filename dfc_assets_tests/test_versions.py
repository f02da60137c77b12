import pytest

from dfc_assets.versions import InvalidVersionKey, is_newer, sort_versions, validate_version_key, version_from_timestamp


def test_versions_sort_by_release_order_not_text():
    assert sort_versions(["2021.10", "2022", "2021.2", "2021", "2025-06-11", "2025-06-09"]) == [
        "2021", "2021.2", "2021.10", "2022", "2025-06-09", "2025-06-11",
    ]


def test_a_rebuild_counter_sorts_after_its_release():
    assert is_newer("2025-06-11.1", "2025-06-11")
    assert not is_newer("2025-06-11", "2025-06-11.1")
    assert not is_newer("2025-06-11", "2025-06-11")
    assert is_newer("2021", None)


@pytest.mark.parametrize("bad", ["", "a,b", "x|y", "../up", "2025 06", ".hidden", "v/1"])
def test_keys_that_cannot_be_file_names_or_partitions_are_refused(bad):
    with pytest.raises(InvalidVersionKey, match="invalid version key"):
        validate_version_key(bad, dataset="demo")


def test_release_time_becomes_the_release_day():
    assert version_from_timestamp("2025-06-11T08:30") == "2025-06-11"
