"""`dfc demo` that stops dead inside one step, for the tests that SIGKILL it there:

    python -m dfc_assets_tests.e2e.paused_demo STEP_SUFFIX MARKER demo --workdir …

Watching the instance from outside for a step's start races a demo that publishes a version in a fraction of a
second: the step, or the whole demo, can end between two looks. Here the demo's own process writes the run's id
to MARKER once a step ``*STEP_SUFFIX`` has started (the catalog step: once it holds the catalog's lease, the moment
a kill there is about) and then sleeps until it is killed.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType

CATALOG_STEP = "catalog__stac_geoparquet"


def _stop_here(marker: Path, run_id: str) -> None:
    written = marker.with_name(marker.name + ".tmp")
    written.write_text(run_id, encoding="utf-8")
    written.replace(marker)
    while True:
        time.sleep(3600)


def install(step_suffix: str, marker: Path) -> None:
    started: dict[str, str] = {}
    handle_new_event = dg.DagsterInstance.handle_new_event

    def handle_and_watch(self, event, **kwargs):
        handle_new_event(self, event, **kwargs)
        dagster_event = event.dagster_event
        if dagster_event is None or dagster_event.event_type != DagsterEventType.STEP_START:
            return
        if event.step_key and event.step_key.endswith(step_suffix):
            if step_suffix == CATALOG_STEP:
                started["run_id"] = event.run_id
            else:
                _stop_here(marker, event.run_id)

    dg.DagsterInstance.handle_new_event = handle_and_watch
    if step_suffix == CATALOG_STEP:
        from dfc_assets.publication import catalog

        writer_lock = catalog.writer_lock

        @contextmanager
        def lock_then_stop(*args, **kwargs):
            with writer_lock(*args, **kwargs):
                if "run_id" in started:
                    _stop_here(marker, started["run_id"])
                yield

        catalog.writer_lock = lock_then_stop


if __name__ == "__main__":
    install(sys.argv[1], Path(sys.argv[2]))
    from dfc_assets.cli.main import main

    sys.exit(main(sys.argv[3:]))
