"""A plain CSV or Parquet file (an ``http_file`` source) -> one deterministic, typed Parquet file.

CSV (streamed with ``pyarrow.csv``, bounded memory, two passes over the file):

- Header: line 1, decoded with ``encoding`` (UTF-8 with or without BOM by default);
  duplicate and empty names follow ``column_names.unique_column_names``.
- Types, decided by the first pass over *every* row (never a sample, so a late value
  cannot break the second pass): a column whose non-empty values are all integers
  without a leading zero is ``int64``; else all decimal numbers (``1.5``, ``-2e3``,
  no leading zero before another digit) ``float64``; else text exactly as given. A
  leading zero (``007``, ``01``) keeps codes such as postal or census codes as text. In
  typed columns the empty field is null; in text columns it stays ``""``.
- Ragged rows (a field count unlike the header's): ``ragged_rows="error"`` fails naming
  the line; ``"skip"`` drops them and logs their line numbers.
- Rows in file order; written by ``csv_stream.RowGroupWriter`` (fixed row groups, zstd,
  fixed encodings), so the same file gives the same bytes.

Parquet: rewritten batch by batch with the same writer and the file's own Arrow schema
(schema metadata dropped, so an upstream writer's ``created_by`` or pandas index notes
never reach the artifact). GeoParquet goes through ``vector_file`` instead.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dfc_assets.transform.column_names import unique_column_names
from dfc_assets.transform.csv_stream import CSV_BLOCK_BYTES, MAX_HEADER_BYTES, RaggedRows, RowGroupWriter, python_codec
from dfc_assets.transform.result import TransformError, TransformResult, schema_columns, sha256_of_file

_INTEGER = r"^[+-]?(0|[1-9][0-9]*)$"
_DECIMAL = r"^[+-]?(0|[1-9][0-9]*)?(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_HAS_DIGIT = r"[0-9]"
_INT64_LIMIT = 9_223_372_036_854_775_807


def _header(path: Path, encoding: str) -> list[str]:
    with open(path, "rb") as handle:
        first = handle.readline(MAX_HEADER_BYTES)
    if not first.strip(b"\xef\xbb\xbf\r\n"):
        raise TransformError(f"{path.name}: the CSV is empty (no header line)")
    try:
        text = first.decode(python_codec(encoding)).lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise TransformError(f"{path.name}: line 1 (the header) is not valid {encoding} ({error.reason}); set the source's encoding") from None
    return next(csv.reader([text]))


class _CsvFile:
    def __init__(self, path: Path, names: list[str], encoding: str, ragged_rows: RaggedRows) -> None:
        self.path, self.names, self.encoding, self.ragged_rows = path, names, encoding, ragged_rows
        self.ragged_lines: list[int | str] = []
        self.refused_row: str | None = None
        self.rows = 0

    def _on_invalid_row(self, row) -> str:
        if self.ragged_rows == "skip":
            self.ragged_lines.append(row.number if row.number > 0 else row.text[:40])
            return "skip"
        where = f"line {row.number}" if row.number > 0 else f"the line {row.text[:80]!r}"
        # An exception raised here is swallowed by Arrow; the refusal is reported from batches().
        self.refused_row = f"{where} has {row.actual_columns} fields, the header {row.expected_columns} (a ragged row; set ragged_rows: skip to drop such rows)"
        return "error"

    def batches(self, column_types: dict[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
        self.rows, self.ragged_lines = 0, []
        # BOM-less UTF-8 for Arrow: the header line is skipped, so a BOM there never reaches a value.
        encoding = "utf8" if python_codec(self.encoding) == "utf-8-sig" else self.encoding
        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(column_names=self.names, skip_rows=1, block_size=CSV_BLOCK_BYTES, encoding=encoding, use_threads=False),
                parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=self._on_invalid_row),
                convert_options=pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=False, null_values=[""], true_values=[], false_values=[]),
            )
            for batch in reader:
                self.rows += batch.num_rows
                yield batch
        except pa.ArrowInvalid as error:
            detail = self.refused_row or f"cannot be read as {self.encoding} CSV: {error}"
            raise TransformError(f"{self.path.name}: {detail}. Nothing was written.") from None


def _column_kind(values: pa.Array, current: str) -> str:
    """Narrow ``current`` (int64 -> float64 -> string) so that every non-empty value fits."""
    if current == "string":
        return current
    present = pc.filter(values, pc.not_equal(values, ""))
    if len(present) == 0:
        return current
    if current == "int64":
        if pc.all(pc.match_substring_regex(present, _INTEGER)).as_py():
            longest = pc.max(pc.utf8_length(pc.replace_substring_regex(present, r"^[+-]", ""))).as_py()
            if longest < 19 or all(abs(int(v)) <= _INT64_LIMIT for v in present.to_pylist() if len(v.lstrip("+-")) >= 19):
                return current
        current = "float64"
    if pc.all(pc.match_substring_regex(present, _DECIMAL)).as_py() and pc.all(pc.match_substring_regex(present, _HAS_DIGIT)).as_py():
        return current
    return "string"


def csv_file_to_parquet(
    path: Path, out_path: Path, *, encoding: str = "utf-8", ragged_rows: RaggedRows = "error",
    log: Callable[[str], None] = lambda message: None,
) -> TransformResult:
    path, out_path = Path(path), Path(out_path)
    if not path.is_file():
        raise TransformError(f"{path.name}: file not found at {path}")
    header = _header(path, encoding)
    names = unique_column_names(header)
    if renamed := [(old, new) for old, new in zip(header, names) if old != new]:
        log(f"{path.name}: renamed duplicate or empty headers " + ", ".join(f"{old!r} -> {new!r}" for old, new in renamed))
    source = _CsvFile(path, names, encoding, ragged_rows)
    kinds = dict.fromkeys(names, "int64")
    seen_value = dict.fromkeys(names, False)
    for batch in source.batches({name: pa.string() for name in names}):
        for name, column in zip(names, batch.columns):
            kinds[name] = _column_kind(column, kinds[name])
            seen_value[name] = seen_value[name] or pc.any(pc.not_equal(column, "")).as_py() or False
    if source.rows == 0:
        raise TransformError(f"{path.name}: the CSV has a header but no data rows; nothing to publish")
    types = {name: (pa.string() if not seen_value[name] else getattr(pa, kinds[name])()) for name in names}
    schema = pa.schema([(name, types[name]) for name in names])
    layout = _write(out_path, schema, source.batches(types))
    if source.ragged_lines:
        log(f"{path.name}: skipped {len(source.ragged_lines)} ragged row(s) at line(s) {', '.join(map(str, source.ragged_lines[:20]))}")
    log(f"{path.name}: wrote {source.rows} rows to {out_path.name} ({', '.join(f'{n} {t}' for n, t in schema_columns(schema))})")
    return _result(out_path, source.rows, schema, (("ragged_rows_skipped", len(source.ragged_lines)),), layout)


def is_geoparquet(path: Path) -> bool:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (pa.ArrowInvalid, OSError):
        return False
    return b"geo" in metadata


def parquet_file_to_parquet(path: Path, out_path: Path, *, log: Callable[[str], None] = lambda message: None) -> TransformResult:
    path, out_path = Path(path), Path(out_path)
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise TransformError(f"{path.name}: not a readable Parquet file: {error}") from None
    schema = source.schema_arrow.remove_metadata()
    if len(set(schema.names)) != len(schema.names):
        raise TransformError(f"{path.name}: duplicate column names {schema.names}; cannot be published as is")
    rows = source.metadata.num_rows
    if rows == 0:
        raise TransformError(f"{path.name}: the Parquet file has no rows; nothing to publish")

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in source.iter_batches(batch_size=65_536, use_threads=False):
                yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        except (pa.ArrowInvalid, OSError) as error:
            raise TransformError(f"{path.name}: could not be read: {error}") from None

    layout = _write(out_path, schema, batches())
    log(f"{path.name}: rewrote {rows} rows to {out_path.name}")
    return _result(out_path, rows, schema, (), layout)


def _write(out_path: Path, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> dict:
    tmp_path = out_path.with_name(out_path.name + ".partial")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with RowGroupWriter(tmp_path, schema) as writer:
            for batch in batches:
                writer.write(batch)
        os.replace(tmp_path, out_path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return writer.layout


def _result(out_path: Path, rows: int, schema: pa.Schema, counts: tuple, layout: dict) -> TransformResult:
    return TransformResult(
        path=out_path, rows=rows, size=out_path.stat().st_size, sha256=sha256_of_file(out_path),
        columns=schema_columns(schema), bbox=None, footprint=None, counts=counts, layout=layout,
    )


__all__ = ["csv_file_to_parquet", "is_geoparquet", "parquet_file_to_parquet"]
