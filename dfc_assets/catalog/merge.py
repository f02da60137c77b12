"""The rows of an updated catalog: the previous file's rows of untouched datasets, as Arrow slices (never turned back
into Python objects), and the re-linked rows of the datasets that changed, in catalog order (collection id, then
release order inside each collection, as `version_links.sort_items`)."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping

import pyarrow as pa

from dfc_assets.catalog.table_schema import CATALOG_SCHEMA


def collection_runs(table: pa.Table) -> dict[str, tuple[int, int]]:
    """Collection id -> (offset, length) of its rows; each collection's rows are one run in a catalog file."""
    runs: dict[str, tuple[int, int]] = {}
    offset = 0
    for collection, run in itertools.groupby(table.column("collection").to_pylist()):
        length = sum(1 for _ in run)
        if collection in runs:
            raise ValueError(f"catalog rows of collection {collection!r} are not contiguous; the file is not in catalog order")
        runs[collection] = (offset, length)
        offset += length
    return runs


def merge_rows(previous: pa.Table, replacements: Mapping[str, pa.Table], keep: Collection[str]) -> pa.Table:
    """Rows of `previous` for the collections in `keep`, the collections of `replacements` replaced (or added) by
    their complete new rows (an empty table drops a collection), every collection's rows in collection-id order."""
    runs = collection_runs(previous)
    order = sorted((set(runs) & set(keep)) | set(replacements))
    pieces: list[pa.Table] = []
    open_slice: list[int] | None = None  # [start, end) of consecutive untouched rows of `previous`

    def close() -> None:
        nonlocal open_slice
        if open_slice is not None:
            pieces.append(previous.slice(open_slice[0], open_slice[1] - open_slice[0]))
            open_slice = None

    for collection in order:
        if collection in replacements:
            close()
            if len(replacements[collection]):
                pieces.append(replacements[collection])
            continue
        start, length = runs[collection]
        if open_slice is not None and open_slice[1] == start:
            open_slice[1] = start + length
        else:
            close()
            open_slice = [start, start + length]
    close()
    if not pieces:
        return CATALOG_SCHEMA.empty_table()
    return pa.concat_tables(pieces).combine_chunks()
