"""Streaming a CSV member of a zip into Parquet: bounded memory, fixed row groups, lines named on error.

``CsvMember.batches()`` parses the member with ``pyarrow.csv.open_csv`` in 1 MiB blocks
(larger blocks make the reader's readahead hold far more memory), every column with an
explicit type, text kept exactly (``strings_can_be_null=False``) and only the empty
field read as null in typed columns. ``RowGroupWriter`` writes fixed-size row groups
with fixed settings (``layout``, recorded in the manifest), so the bytes depend only on the rows. Any failure becomes a
``TransformError`` naming the file and, found by ``csv_lines``, the line.
"""

from __future__ import annotations

import csv
import queue
import threading
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dfc_assets.transform.csv_lines import iter_bad_lines
from dfc_assets.transform.result import TransformError
from dfc_assets.transform.zip_safety import STREAM_ERRORS, read_error

CSV_BLOCK_BYTES = 1024 * 1024
ROW_GROUP_ROWS = 262_144
ZSTD_LEVEL = 3  # zstd default, as DuckDB; 6 saves ~3% size for ~25% more write CPU
DATA_PAGE_BYTES = 1024 * 1024
# Pages end at DATA_PAGE_BYTES only: pyarrow's default cap of 20,000 rows per page cuts float columns into
# 160 kB pages that zstd compresses ~10 % worse (benchmarks/parquet_size.py).
MAX_ROWS_PER_PAGE = ROW_GROUP_ROWS
PARQUET_WRITER_OPTIONS = dict(
    compression="zstd", compression_level=ZSTD_LEVEL, version="2.6", write_statistics=True, data_page_version="1.0",
    data_page_size=DATA_PAGE_BYTES, max_rows_per_page=MAX_ROWS_PER_PAGE, write_batch_size=1024,
    dictionary_pagesize_limit=1024 * 1024, store_schema=True, write_page_index=False,
)
DICTIONARY = "RLE_DICTIONARY"
MAX_HEADER_BYTES = 1024 * 1024

RaggedRows = Literal["error", "skip"]


def python_codec(encoding: str) -> str:
    return "utf-8-sig" if encoding.replace("-", "").replace("_", "").lower() == "utf8" else encoding


def read_header(archive: zipfile.ZipFile, member: str, encoding: str, where: str) -> list[str]:
    try:
        with archive.open(member) as handle:
            first = handle.readline(MAX_HEADER_BYTES)
    except STREAM_ERRORS as error:
        raise read_error(where, error) from None
    if not first.strip(b"\xef\xbb\xbf\r\n"):
        raise TransformError(f"{where}: the CSV member is empty (no header line)")
    if not first.endswith(b"\n") and len(first) >= MAX_HEADER_BYTES:
        raise TransformError(f"{where}: line 1 (the header) is longer than {MAX_HEADER_BYTES} bytes; is this a CSV?")
    try:
        text = first.decode(python_codec(encoding)).lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise TransformError(f"{where}: line 1 (the header) is not valid {encoding} ({error.reason}); pass the file's encoding") from None
    return next(csv.reader([text]))


class CsvMember:
    def __init__(
        self,
        archive: zipfile.ZipFile,
        member: str,
        *,
        names: list[str],
        column_types: Mapping[str, pa.DataType],
        encoding: str,
        where: str,
        ragged_rows: RaggedRows = "error",
        extra_check: Callable[[dict[str, str]], str | None] | None = None,
    ) -> None:
        self.archive, self.member, self.names, self.encoding, self.where = archive, member, names, encoding, where
        self.column_types = dict(column_types)
        self.ragged_rows = ragged_rows
        self.extra_check = extra_check
        self.skipped_ragged = 0
        self.rows = 0

    @property
    def read_schema(self) -> pa.Schema:
        return pa.schema([(name, self.column_types[name]) for name in self.names])

    def error(self, arrow_message: str) -> TransformError:
        """The TransformError for a refused member, with the first bad line found by a slow re-read."""
        try:
            bad = next(iter_bad_lines(
                self.archive, self.member, encoding=self.encoding, column_names=self.names,
                column_types={name: str(kind) for name, kind in self.column_types.items()}, extra_check=self.extra_check,
            ), None)
        except STREAM_ERRORS as error:
            return read_error(self.where, error)
        detail = bad.describe() if bad else f"{arrow_message} (the slow re-read found no bad line)"
        return TransformError(f"{self.where}: {detail}. Nothing was written.")

    def ragged_lines(self, limit: int = 20) -> list[int]:
        lines = []
        for bad in iter_bad_lines(self.archive, self.member, encoding=self.encoding, column_names=self.names, column_types={}):
            lines.append(bad.line)
            if len(lines) >= limit:
                break
        return lines

    def _on_invalid_row(self, row) -> str:
        if self.ragged_rows == "skip":
            self.skipped_ragged += 1
            return "skip"
        return "error"

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            with self.archive.open(self.member) as raw:
                try:
                    reader = pacsv.open_csv(
                        raw,
                        read_options=pacsv.ReadOptions(column_names=self.names, skip_rows=1, block_size=CSV_BLOCK_BYTES, encoding=self.encoding),
                        parse_options=pacsv.ParseOptions(newlines_in_values=False, invalid_row_handler=self._on_invalid_row),
                        convert_options=pacsv.ConvertOptions(
                            column_types=self.column_types, strings_can_be_null=False, null_values=[""], true_values=[], false_values=[],
                        ),
                    )
                    for batch in reader:
                        self.rows += batch.num_rows
                        yield batch
                except pa.ArrowInvalid as error:
                    raise self.error(str(error)) from None
        except STREAM_ERRORS as error:
            raise read_error(self.where, error) from None


def column_encodings(schema: pa.Schema) -> dict[str, str]:
    """Each column's Parquet encoding, fixed by the schema: dictionary pages for text and integer codes, dates
    delta-encoded (sorted runs of days), everything else (float measures, mostly distinct) plain.

    Measured against alternatives (benchmarks/parquet_size.py): REF_DATE as DELTA_BYTE_ARRAY is 3-10 %
    smaller on daily tables but doubles DuckDB's read time, so text stays dictionary-encoded."""
    encodings = {}
    for field in schema:
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type) or pa.types.is_integer(field.type):
            encodings[field.name] = DICTIONARY
        elif pa.types.is_date(field.type):
            encodings[field.name] = "DELTA_BINARY_PACKED"
        else:
            encodings[field.name] = "PLAIN"
    return encodings


class RowGroupWriter:
    """Parquet writer with row groups of exactly ``ROW_GROUP_ROWS`` rows (the last one shorter).

    Row groups are encoded and compressed on a background thread (Arrow releases the GIL),
    overlapping with the parsing of the next rows; at most one row group waits in the queue.
    """

    def __init__(self, path: Path, schema: pa.Schema, *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.encodings = column_encodings(schema)
        self.writer = pq.ParquetWriter(
            path, schema,
            use_dictionary=[name for name, encoding in self.encodings.items() if encoding == DICTIONARY],
            column_encoding={name: encoding for name, encoding in self.encodings.items() if encoding not in (DICTIONARY, "PLAIN")} or None,
            **PARQUET_WRITER_OPTIONS,
        )
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=1)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._write_loop, name="parquet-row-groups", daemon=True)
        self._thread.start()

    @property
    def layout(self) -> dict:
        """The settings that shaped the bytes, as the manifest records them."""
        options = PARQUET_WRITER_OPTIONS
        return {
            "format_version": options["version"], "data_page_version": options["data_page_version"],
            "compression": options["compression"], "compression_level": options["compression_level"],
            "row_group_rows": self.row_group_rows, "data_page_bytes": options["data_page_size"],
            "max_rows_per_page": options["max_rows_per_page"], "dictionary_page_bytes": options["dictionary_pagesize_limit"],
            "statistics": options["write_statistics"], "row_order": "source", "encodings": dict(self.encodings),
        }

    def _write_loop(self) -> None:
        while (table := self._queue.get()) is not None:
            if self._failure is None:
                try:
                    self.writer.write_table(table, row_group_size=table.num_rows)
                except BaseException as error:  # re-raised in the caller's thread
                    self._failure = error

    def _submit(self, table: pa.Table) -> None:
        if self._failure is not None:
            raise self._failure
        self._queue.put(table)

    def write(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        self._flush(final=False)

    def _flush(self, final: bool) -> None:
        while self.pending_rows >= self.row_group_rows or (final and self.pending_rows):
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            size = min(self.row_group_rows, self.pending_rows)
            self._submit(table.slice(0, size))
            rest = table.slice(size)
            self.pending, self.pending_rows = rest.to_batches(), rest.num_rows

    def _stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def close(self) -> None:
        try:
            self._flush(final=True)
        finally:
            self._stop()
            self.writer.close()
        if self._failure is not None:
            raise self._failure

    def __enter__(self) -> "RowGroupWriter":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._stop()
            self.writer.close()
