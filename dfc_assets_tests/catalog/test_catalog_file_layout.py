"""The catalog file's layout that keeps remote lookups cheap: row-group sizing, statistics, a lean footer."""

from __future__ import annotations

import pyarrow.parquet as pq

from dfc_assets.catalog.collection import build_collection
from dfc_assets.catalog import geoparquet
from dfc_assets.catalog.geoparquet import MIN_ROW_GROUP_ROWS, STATISTICS_COLUMNS, row_group_rows, row_groups, write_catalog
from dfc_assets.catalog.item import build_item
from dfc_assets.catalog.table_schema import CATALOG_SCHEMA
from dfc_assets_tests.catalog.catalog_samples import BOUNDARIES, STATCAN_TABLE, dataset_facts, version_facts


def test_row_groups_grow_with_the_square_root_of_the_row_count():
    assert row_group_rows(10) == MIN_ROW_GROUP_ROWS
    assert row_group_rows(100_000) == 9_000
    assert row_group_rows(1_000_000) == 28_000
    sizes = [row_group_rows(n) for n in (1_000, 10_000, 100_000, 1_000_000, 10_000_000)]
    assert sizes == sorted(sizes)
    assert 100_000 / row_group_rows(100_000) < 12 < 1_000_000 / row_group_rows(1_000_000) < 40


def test_footer_has_statistics_only_where_queries_filter_and_no_arrow_schema_copy(tmp_path):
    items = [build_item(version_facts(STATCAN_TABLE, f"2020-{m:02d}-11", record=m)) for m in range(1, 13)]
    path = tmp_path / "dfc-catalog.parquet"
    write_catalog(items, [build_collection(dataset_facts(), items)], path)
    metadata = pq.read_metadata(path)
    assert set(metadata.metadata) == {b"geo", b"stac-geoparquet"}
    with_statistics = {metadata.row_group(0).column(i).path_in_schema for i in range(metadata.num_columns)
                       if metadata.row_group(0).column(i).is_stats_set}
    assert with_statistics == set(STATISTICS_COLUMNS)
    assert pq.read_schema(path).remove_metadata().equals(CATALOG_SCHEMA)
    versions = pq.read_table(path, columns=["version"]).column("version").to_pylist()
    assert versions == [f"2020-{m:02d}-11" for m in range(1, 13)]


def test_row_groups_are_cut_between_datasets():
    rows = ["a"] * 3 + ["b"] * 4 + ["c"] * 2 + ["d"] * 9 + ["e"]
    assert row_groups(rows, 5) == [(0, 3), (3, 4), (7, 2), (9, 5), (14, 4), (18, 1)]
    assert row_groups(rows, 10) == [(0, 9), (9, 10)]
    assert row_groups(rows, 100) == [(0, 19)]
    assert row_groups([], 5) == []
    for size in range(1, 12):
        groups = row_groups(rows, size)
        assert [o for o, _ in groups] == [0] + [o + n for o, n in groups[:-1]] and sum(n for _, n in groups) == len(rows)
        assert all(0 < n <= size for _, n in groups)


def test_no_dataset_is_split_across_row_groups_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(geoparquet, "row_group_rows", lambda total: 5)
    items = [build_item(version_facts(STATCAN_TABLE, f"2020-{m:02d}-11", record=m)) for m in range(1, 4)]
    items += [build_item(version_facts(BOUNDARIES, f"20{y}", record=100 + y)) for y in range(10, 14)]
    collections = [build_collection(dataset_facts(d), [i for i in items if i["collection"] == d]) for d in (STATCAN_TABLE, BOUNDARIES)]
    path = tmp_path / "dfc-catalog.parquet"
    write_catalog(items, collections, path)
    parquet = pq.ParquetFile(path)
    per_group = [parquet.read_row_group(i, columns=["collection"]).column("collection").to_pylist() for i in range(parquet.num_row_groups)]
    assert per_group == [[BOUNDARIES] * 4, [STATCAN_TABLE] * 3]


def test_the_gc_pause_of_a_rebuild_restores_the_collector_as_it_was():
    import gc

    assert gc.isenabled()
    with geoparquet.cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with geoparquet.cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
