"""Cheap upstream change detection over every registered source in one sensor tick.

Each source kind checks its own datasets in a batch (``SourceKind.check_changes``): StatCan tables
with one ``getChangedCubeList`` per Eastern day (O(changed) requests, whatever the number of
tables), file sources with a conditional GET each, then the sha256 of the bytes. Nothing here reads
the store: what is known comes in as arguments (the sensor keeps one state object).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import httpx

from dfc_assets.registry import DatasetSpec
from dfc_assets.registry.cube_list import CubeListSnapshot
from dfc_assets.settings import Settings
from dfc_assets.sources.kinds import source_kind
from dfc_assets.sources.kinds.statcan_table import EASTERN, wds_days_to_ask
from dfc_assets.sources.state import ChangeCheck, ChangeContext, KnownVersions, SourceState

__all__ = ["EASTERN", "ChangeCheck", "KnownVersions", "SourceState", "check_all", "wds_days_to_ask"]


def check_all(
    specs: Sequence[DatasetSpec], settings: Settings, *, states: Mapping[str, SourceState], known: Mapping[str, KnownVersions],
    now: datetime | None = None, max_workers: int = 8, source_timeout: float = 15.0, deadline_seconds: float = 45.0,
    client_factory: Callable[[float], httpx.Client] | None = None, cube_list: CubeListSnapshot | None = None,
    last_tick: datetime | None = None,
) -> list[ChangeCheck]:
    """One ChangeCheck per spec, in the order given; a slow or failing source is reported, never blocks the others.

    ``states``/``known``: per dataset key, what the sensor's state object and the Dagster instance say.
    ``cube_list``: the cube-list snapshot (first release of tables never published, without a request each).
    ``last_tick``: when the previous tick ran, so that WDS days missed since then are asked too.
    """
    make_client = client_factory or (lambda timeout: httpx.Client(timeout=timeout))
    started = time.monotonic()
    by_kind: dict[str, list[DatasetSpec]] = {}
    for spec in specs:
        by_kind.setdefault(spec.source.kind, []).append(spec)
    results: dict[str, ChangeCheck] = {}
    with make_client(source_timeout) as client, ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="dfc-source-check") as pool:
        context = ChangeContext(
            settings=settings, client=client, states=states, known=known, now=now or datetime.now(timezone.utc),
            cube_list=cube_list, pool=pool, deadline=started + deadline_seconds, last_tick=last_tick, started=started,
        )
        for kind_specs in by_kind.values():
            for check in source_kind(kind_specs[0]).check_changes(kind_specs, context):
                results[check.dataset] = check
    return [results[spec.key] for spec in specs]
