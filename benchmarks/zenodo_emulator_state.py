"""What one change costs the Zenodo emulator's persisted state with many records, against a few.

Each change (a deposit created, updated, a file added, published) is persisted (``zenodo/emulator/state.py``:
one journal line, ``state.json`` rewritten once the journal outgrows the records). A demo of thousands of
tables makes thousands of records, so a change must cost the same at 8,000 records as at 100. The figure:
the mean time of a change (create then update, as many changes as there are records, at least 200: a whole
cycle of the journal, its rewrite of ``state.json`` included) once N records exist, against the same at 100
records (the anchor), in one run. Issue 11 wants the embedded default to run a collection of thousands.
Run: python benchmarks/zenodo_emulator_state.py [--records 8000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.zenodo.emulator.state import EmulatorState, Limits  # noqa: E402

METADATA = {"title": "Statistics Canada table 33-10-0036-01, daily average foreign exchange rates" * 2,
            "upload_type": "dataset", "description": "A table as analysis-ready Parquet. " * 20,
            "creators": [{"name": "Statistics Canada"}, {"name": "Data for Canada"}], "version": "2025-06-11"}
MIN_MEASURED = 200


def mean_change_ms(records: int) -> float:
    measured = max(MIN_MEASURED, records)
    with tempfile.TemporaryDirectory() as folder:
        state = EmulatorState(Path(folder), Limits())
        for _ in range(records):
            state.create(METADATA)
        started = time.perf_counter()
        for _ in range(measured // 2):
            record = state.create(METADATA)
            state.update(record["id"], {**METADATA, "version": "2025-06-12"})
        return (time.perf_counter() - started) * 1000 / measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=8000)
    args = parser.parse_args()
    anchor = mean_change_ms(100)
    many = mean_change_ms(args.records)
    print(f"one change with {args.records:,} records: {many:.2f} ms; anchor, with 100 records: {anchor:.2f} ms; ratio {many / anchor:.2f}x")


if __name__ == "__main__":
    main()
