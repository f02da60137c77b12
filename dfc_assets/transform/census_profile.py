"""A Census of Population profile CSV zip (98-401-X2021006 and kin) -> one deterministic Parquet file.

The files are latin-1 (``encoding``), name the ``SYMBOL`` column six times and put
``+`` in names (``C2_COUNT_MEN+``), ``dfc-domain.md`` §3.2 and §7.

- Members: the ``.csv`` members whose name contains ``_data`` (the regional files
  ``..._English_CSV_data_{Atlantic,...}.csv``), in name order, or ``members`` when given.
  All must have the same header.
- Names: duplicate headers follow ``column_names.unique_column_names``, so the symbols
  are ``SYMBOL``, ``SYMBOL.1`` .. ``SYMBOL.5`` (as pandas names them); ``+`` is kept.
- Types: ``CENSUS_YEAR`` int16, ``CHARACTERISTIC_ID`` int32, ``TNR_SF``/``TNR_LF`` and
  every ``C<n>_...`` count or rate float64 (suppressed cells are empty -> null); all
  other columns text exactly as given (``DATA_QUALITY_FLAG`` ``00000``, ``ALT_GEO_CODE``).
- Canada (and any geography) repeated in several regional files is kept only from the
  first file it appears in (by ``DGUID``), as D4C de-duplicates it.
- Streamed like WDS tables (``csv_stream``), rows in file order, fixed writer settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dfc_assets.transform.column_names import unique_column_names
from dfc_assets.transform.csv_stream import CsvMember, RaggedRows, RowGroupWriter, read_header
from dfc_assets.transform.result import TransformError, TransformResult, schema_columns, sha256_of_file
from dfc_assets.transform.zip_safety import DEFAULT_ZIP_LIMITS, ZipLimits, open_checked_zip

CENSUS_STANDARD_COLUMNS = (
    "CENSUS_YEAR", "DGUID", "ALT_GEO_CODE", "GEO_LEVEL", "GEO_NAME", "TNR_SF", "TNR_LF", "DATA_QUALITY_FLAG",
    "CHARACTERISTIC_ID", "CHARACTERISTIC_NAME", "CHARACTERISTIC_NOTE", "SYMBOL",
)
_FIXED_TYPES = {"CENSUS_YEAR": pa.int16(), "CHARACTERISTIC_ID": pa.int32(), "TNR_SF": pa.float64(), "TNR_LF": pa.float64()}
_MEASURE = re.compile(r"^C\d+_")


def _where(dataset: str, zip_path: Path, member: str | None = None) -> str:
    return f"{dataset} ({zip_path.name}{'!' + member if member else ''})"


def census_column_type(name: str) -> pa.DataType:
    if name in _FIXED_TYPES:
        return _FIXED_TYPES[name]
    return pa.float64() if _MEASURE.match(name) else pa.string()


def census_profile_to_parquet(
    zip_path: Path,
    out_path: Path,
    *,
    dataset: str = "census profile",
    members: Sequence[str] | None = None,
    encoding: str = "latin-1",
    ragged_rows: RaggedRows = "error",
    zip_limits: ZipLimits = DEFAULT_ZIP_LIMITS,
    log: Callable[[str], None] = lambda message: None,
) -> TransformResult:
    zip_path, out_path = Path(zip_path), Path(out_path)
    label = _where(dataset, zip_path)
    with open_checked_zip(zip_path, where=label, limits=zip_limits) as archive:
        names_in_zip = archive.namelist()
        if members is None:
            chosen = sorted(n for n in names_in_zip if n.lower().endswith(".csv") and "_data" in n.lower())
        else:
            chosen = list(members)
            if missing := [m for m in chosen if m not in names_in_zip]:
                raise TransformError(f"{label}: no member(s) {missing} in the zip (members: {names_in_zip[:10]})")
        if not chosen:
            raise TransformError(f"{label}: no data CSV (a .csv member with '_data' in its name) among {names_in_zip[:10]}")
        headers = {member: read_header(archive, member, encoding, _where(dataset, zip_path, member)) for member in chosen}
        first_header = headers[chosen[0]]
        for member, header in headers.items():
            if header != first_header:
                raise TransformError(
                    f"{_where(dataset, zip_path, member)}: its header differs from {chosen[0]}'s "
                    f"(only in one: {sorted(set(header) ^ set(first_header))[:10]})"
                )
        names = unique_column_names(first_header, reserved=CENSUS_STANDARD_COLUMNS)
        column_types = {name: census_column_type(name) for name in names}
        schema = pa.schema([(name, column_types[name]) for name in names])
        has_dguid = "DGUID" in names
        seen_before: set[str] = set()
        rows = duplicates = skipped = 0
        tmp_path = out_path.with_name(out_path.name + ".partial")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with RowGroupWriter(tmp_path, schema) as writer:
                for member in chosen:
                    source = CsvMember(archive, member, names=names, column_types=column_types, encoding=encoding,
                                       where=_where(dataset, zip_path, member), ragged_rows=ragged_rows)
                    previous = pa.array(sorted(seen_before), type=pa.string())
                    in_member: set[str] = set()
                    for batch in source.batches():
                        if has_dguid:
                            dguids = batch.column("DGUID")
                            in_member.update(pc.unique(dguids).to_pylist())
                            if len(previous):
                                repeated = pc.is_in(dguids, value_set=previous)
                                if (count := pc.sum(repeated).as_py() or 0):
                                    duplicates += count
                                    batch = batch.filter(pc.invert(repeated))
                        rows += batch.num_rows
                        writer.write(batch)
                    seen_before |= in_member
                    skipped += source.skipped_ragged
                    if source.skipped_ragged:
                        log(f"{source.where}: skipped {source.skipped_ragged} ragged row(s) at line(s) {', '.join(map(str, source.ragged_lines()))}")
            if rows == 0:
                raise TransformError(f"{label}: the CSV has a header but no data rows; nothing to publish")
            os.replace(tmp_path, out_path)
        finally:
            if tmp_path.exists():
                tmp_path.unlink()
    if duplicates:
        log(f"{label}: dropped {duplicates} row(s) of geographies already present in an earlier regional file")
    log(f"{label}: wrote {rows} rows from {len(chosen)} file(s) to {out_path.name}")
    return TransformResult(
        path=out_path, rows=rows, size=out_path.stat().st_size, sha256=sha256_of_file(out_path),
        columns=schema_columns(schema), bbox=None, footprint=None,
        counts=(("repeated_geography_rows_dropped", duplicates), ("ragged_rows_skipped", skipped)), layout=writer.layout,
    )
