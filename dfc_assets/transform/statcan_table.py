"""A StatCan WDS full-table CSV zip -> one deterministic, typed Parquet file.

Streaming: the ``{pid}.csv`` member is decompressed and parsed block by block
(``pyarrow.csv.open_csv``) and written in fixed row groups, so memory stays bounded
whatever the table's size (37 GB for the largest WDS table).

Types (``dfc-domain.md`` §7):

- ``VALUE``: float64, the nearest double to the decimal text; empty (``STATUS`` ``..``,
  ``x``, ...) -> null. ``DECIMALS`` (int8) is kept beside it: StatCan's published figure
  is ``round(VALUE, DECIMALS)``, so the exact source text is recoverable per row. We do
  not use decimal128 because ``DECIMALS`` varies per row (4..8 in 33100036).
  VALUE stays float64 even when every DECIMALS is 0 (D4C then used Int64): one type for
  every version, so a later release adding a decimal is not schema drift.
- ``SCALAR_ID`` int8, ``UOM_ID`` int16 (codes, as D4C types them); ``DECIMALS`` int8.
- every other column, including ``COORDINATE``, ``DGUID``, ``VECTOR``, ``STATUS``,
  ``SYMBOL``, ``TERMINATED``, ``SCALAR_FACTOR``, ``UOM`` and the dimension columns, is
  text kept exactly as given (``1.10`` stays ``1.10``; an empty field is ``""``).
- ``REF_DATE`` is kept as text; ``REF_START_DATE``/``REF_END_DATE`` (date32) follow it,
  parsed by ``ref_dates.reference_period``.

Case-duplicate headers are renamed by ``column_names.unique_column_names``. Row order
is the source's. Writer settings are fixed (``csv_stream``: zstd, fixed row groups, no
timestamps; recorded in the manifest), so the same zip gives the same bytes. The zip is checked first
(``zip_safety``: HTML pages, truncation, zip-slip, symlinks, zip bombs).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dfc_assets.transform.column_names import unique_column_names
from dfc_assets.transform.csv_stream import CsvMember, RaggedRows, RowGroupWriter, read_header
from dfc_assets.transform.ref_dates import DEFAULT_FISCAL_YEAR_START_MONTH, InvalidRefDate, reference_period
from dfc_assets.transform.result import TransformError, TransformResult, schema_columns, sha256_of_file
from dfc_assets.transform.zip_safety import DEFAULT_ZIP_LIMITS, ZipLimits, open_checked_zip

WDS_STANDARD_COLUMNS = (
    "REF_DATE", "GEO", "DGUID", "UOM", "UOM_ID", "SCALAR_FACTOR", "SCALAR_ID",
    "VECTOR", "COORDINATE", "VALUE", "STATUS", "SYMBOL", "TERMINATED", "DECIMALS",
)
WDS_TYPED_COLUMNS: dict[str, pa.DataType] = {
    "VALUE": pa.float64(),
    "DECIMALS": pa.int8(),
    "SCALAR_ID": pa.int8(),
    "UOM_ID": pa.int16(),
}
REQUIRED_COLUMNS = ("REF_DATE", "VALUE")


def _where(product_id: str, zip_path: Path, member: str | None = None) -> str:
    inside = f"!{member}" if member else ""
    return f"StatCan table {product_id} ({zip_path.name}{inside})"


class _ReferencePeriods:
    """REF_DATE text -> (start, end) columns."""

    def __init__(self, fiscal_year_start_month: int) -> None:
        self.fiscal_year_start_month = fiscal_year_start_month
        self.cache: dict[str, tuple[date, date]] = {}

    def period(self, text: str) -> tuple[date, date]:
        if (known := self.cache.get(text)) is None:
            known = reference_period(text, fiscal_year_start_month=self.fiscal_year_start_month)
            self.cache[text] = known
        return known

    def problem(self, row: dict[str, str]) -> str | None:
        try:
            self.period(row["REF_DATE"])
        except InvalidRefDate as error:
            return str(error)
        return None

    def columns(self, ref_date: pa.Array) -> tuple[pa.Array, pa.Array]:
        if len(ref_date) and len(ref_date[0].as_py()) == 10:
            # Daily tables: every row a different day, so parse in Arrow (strict ISO dates) rather than per value.
            try:
                days = pc.cast(ref_date, pa.date32())
                return days, days
            except pa.ArrowInvalid:
                pass  # mixed forms or a bad value: the per-value path below handles or names it
        encoded = pc.dictionary_encode(ref_date)
        periods = [self.period(text) for text in encoded.dictionary.to_pylist()]
        starts = pa.array([p[0] for p in periods], type=pa.date32())
        ends = pa.array([p[1] for p in periods], type=pa.date32())
        return pc.take(starts, encoded.indices), pc.take(ends, encoded.indices)


def dimension_columns_missing(cube_metadata: dict, header: list[str]) -> list[str]:
    """Dimensions of getCubeMetadata (other than geography, which is GEO/DGUID) absent from the header."""
    present = {name.casefold() for name in header}
    missing = []
    for dimension in cube_metadata.get("dimension") or []:
        names = {str(dimension.get(key, "")).casefold() for key in ("dimensionNameEn", "dimensionNameFr")}
        if names & {"geography", "géographie"}:
            continue
        if not names & present:
            missing.append(str(dimension.get("dimensionNameEn") or dimension.get("dimensionNameFr")))
    return missing


def _output_schema(read_schema: pa.Schema) -> pa.Schema:
    fields = []
    for field in read_schema:
        fields.append(field)
        if field.name == "REF_DATE":
            fields += [pa.field("REF_START_DATE", pa.date32()), pa.field("REF_END_DATE", pa.date32())]
    return pa.schema(fields)


def statcan_table_to_parquet(
    zip_path: Path,
    out_path: Path,
    *,
    product_id: str,
    cube_metadata: dict | None = None,
    encoding: str = "utf-8",
    fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH,
    ragged_rows: RaggedRows = "error",
    zip_limits: ZipLimits = DEFAULT_ZIP_LIMITS,
    log: Callable[[str], None] = lambda message: None,
) -> TransformResult:
    """Transform the ``{product_id}.csv`` member of a WDS full-table zip into ``out_path``.

    ``ragged_rows="skip"`` drops rows whose field count differs from the header and logs
    their line numbers; the default fails on the first one. Errors are ``TransformError``
    naming the product id, the file and the line. ``out_path`` appears only when the whole
    table was written.
    """
    zip_path, out_path = Path(zip_path), Path(out_path)
    product_id = str(product_id)
    if not re.fullmatch(r"\d{8}", product_id):
        raise TransformError(f"StatCan product id {product_id!r} is not 8 digits (e.g. '33100036')")
    if cube_metadata is not None and str(cube_metadata.get("productId", product_id)) != product_id:
        raise TransformError(
            f"{_where(product_id, zip_path)}: the cube metadata is for product {cube_metadata.get('productId')}, not {product_id}"
        )
    member = f"{product_id}.csv"
    with open_checked_zip(zip_path, where=_where(product_id, zip_path), limits=zip_limits) as archive:
        if member not in archive.namelist():
            raise TransformError(
                f"{_where(product_id, zip_path)}: no member {member!r} in the zip (members: {', '.join(archive.namelist()[:10]) or 'none'}); "
                "is this the full-table CSV download of that product?"
            )
        where = _where(product_id, zip_path, member)
        header = read_header(archive, member, encoding, where)
        names = unique_column_names(header, reserved=WDS_STANDARD_COLUMNS)
        if renamed := [(old, new) for old, new in zip(header, names) if old != new]:
            log(f"{where}: renamed duplicate headers " + ", ".join(f"{old!r} -> {new!r}" for old, new in renamed))
        if missing := [name for name in REQUIRED_COLUMNS if name not in names]:
            raise TransformError(f"{where}: line 1 (the header) lacks {', '.join(missing)}; header is {header}")
        if cube_metadata is not None and (absent := dimension_columns_missing(cube_metadata, header)):
            # Logged, not refused: the names in the metadata and the CSV can differ cosmetically.
            log(f"{where}: warning: line 1 (the header) has no column for the dimension(s) {absent} that getCubeMetadata lists")
        periods = _ReferencePeriods(fiscal_year_start_month)
        source = CsvMember(
            archive, member, names=names, encoding=encoding, where=where, ragged_rows=ragged_rows,
            column_types={name: WDS_TYPED_COLUMNS.get(name, pa.string()) for name in names},
            extra_check=periods.problem,
        )
        schema = _output_schema(source.read_schema)
        tmp_path = out_path.with_name(out_path.name + ".partial")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        value_rows = 0
        ref_start: date | None = None
        ref_end: date | None = None
        try:
            with RowGroupWriter(tmp_path, schema) as writer:
                for batch in source.batches():
                    try:
                        starts, ends = periods.columns(batch.column("REF_DATE"))
                    except InvalidRefDate as error:
                        raise source.error(str(error)) from None
                    columns = {"REF_START_DATE": starts, "REF_END_DATE": ends}
                    writer.write(pa.RecordBatch.from_arrays(
                        [columns[f.name] if f.name in columns else batch.column(f.name) for f in schema], schema=schema,
                    ))
                    value_rows += batch.num_rows - batch.column("VALUE").null_count
                    if batch.num_rows:
                        low, high = pc.min(starts).as_py(), pc.max(ends).as_py()
                        ref_start = low if ref_start is None else min(ref_start, low)
                        ref_end = high if ref_end is None else max(ref_end, high)
            rows = source.rows
            if rows == 0:
                raise TransformError(f"{where}: the CSV has a header but no data rows; nothing to publish")
            if value_rows == 0:
                raise TransformError(f"{where}: VALUE is empty on all {rows} rows; refusing to publish a table without values")
            if source.skipped_ragged:
                lines = ", ".join(map(str, source.ragged_lines()))
                log(f"{where}: skipped {source.skipped_ragged} ragged row(s) at line(s) {lines}")
            os.replace(tmp_path, out_path)
        finally:
            if tmp_path.exists():
                tmp_path.unlink()

    if cube_metadata is not None and (expected := cube_metadata.get("nbDatapointsCube")) not in (None, rows):
        log(f"{where}: {rows} rows, while getCubeMetadata announced {expected} data points")
    log(f"{where}: wrote {rows} rows to {out_path.name}")
    return TransformResult(
        path=out_path,
        rows=rows,
        size=out_path.stat().st_size,
        sha256=sha256_of_file(out_path),
        columns=schema_columns(schema),
        bbox=None,
        footprint=None,
        reference_start=ref_start,
        reference_end=ref_end,
        counts=(("ragged_rows_skipped", source.skipped_ragged), ("value_nulls", rows - value_rows)),
        layout=writer.layout,
    )
