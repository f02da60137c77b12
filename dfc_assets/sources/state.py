"""What a change check knows and answers: per-dataset upstream state, known versions, the check's result."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from dfc_assets.sources.cadence import Release

if TYPE_CHECKING:
    from dfc_assets.registry import DatasetSpec
    from dfc_assets.registry.cube_list import CubeListSnapshot
    from dfc_assets.settings import Settings


@dataclass(frozen=True)
class SourceState:
    """What we last saw of one dataset's upstream (kept in the sensor's state object)."""

    version: str | None = None
    release_time: str | None = None   # ISO 8601 with offset (UTC) for tables and files
    etag: str | None = None
    last_modified: str | None = None
    size: int | None = None
    sha256: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "SourceState":
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__}) if data else cls()

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class KnownVersions:
    """What is already published or planned for a dataset: its version keys and the latest upstream sha256."""

    versions: tuple[str, ...] = ()
    latest_source_sha256: str | None = None


@dataclass(frozen=True)
class ChangeCheck:
    dataset: str                  # the dataset key
    new_version: str | None       # the version key of a new upstream release, or None
    state: SourceState
    note: str
    error: str | None = None
    release: Release | None = None  # the new upstream release (feed it to cadence.decide), or None


@dataclass(frozen=True)
class UpstreamRelease:
    dataset_id: str
    version: str
    release_time: str | None
    urls: tuple[str, ...]
    cube_metadata: dict | None = None


@dataclass
class ChangeContext:
    """Everything one tick's checks share: settings, one HTTP client, the known state, the cube list, a pool."""

    settings: Settings
    client: httpx.Client
    states: Mapping[str, SourceState]
    known: Mapping[str, KnownVersions]
    now: datetime
    cube_list: "CubeListSnapshot | None"
    pool: ThreadPoolExecutor
    deadline: float                      # time.monotonic() by which every answer must be in
    last_tick: "datetime | None" = None  # when the previous tick ran (WDS days since then are asked)
    started: float = field(default_factory=time.monotonic)

    def state(self, key: str) -> SourceState:
        return self.states.get(key) or SourceState()

    def known_versions(self, key: str) -> KnownVersions:
        return self.known.get(key) or KnownVersions()

    def each_in_pool(self, specs: Sequence["DatasetSpec"], check: Callable[["DatasetSpec", "ChangeContext"], ChangeCheck]) -> list[ChangeCheck]:
        """``check(spec, self)`` for every spec in the pool; a spec with no answer by the deadline is reported as failed."""
        futures = {self.pool.submit(_guarded, check, spec, self): spec for spec in specs}
        results: dict[str, ChangeCheck] = {}
        try:
            for future in as_completed(futures, timeout=max(self.deadline - time.monotonic(), 0.5)):
                result = future.result()
                results[result.dataset] = result
        except TimeoutError:
            pass
        budget = self.deadline - self.started
        for future, spec in futures.items():
            if spec.key not in results:
                future.cancel()
                results[spec.key] = ChangeCheck(spec.key, None, self.state(spec.key), "check failed",
                                                error=f"no answer within the tick's {budget:g} s budget; retried next tick")
        return [results[spec.key] for spec in specs]


def _guarded(check, spec, context: ChangeContext) -> ChangeCheck:
    from dfc_assets.sources.http_download import SourceError

    try:
        return check(spec, context)
    except (SourceError, httpx.HTTPError, ValueError) as error:
        return ChangeCheck(spec.key, None, context.state(spec.key), "check failed", error=f"{type(error).__name__}: {error}")
