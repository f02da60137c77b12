"""Source kind ``statcan_table``: a StatCan WDS table by product id.

Its release is the cube's ``releaseTime`` (a version key per Eastern release day); its files are
the full-table CSV zip per language plus the getCubeMetadata answer. A change check over any
number of tables costs one ``getChangedCubeList`` per Eastern day since the last tick (today and
yesterday at least), never a request per unchanged table; a table never published yet takes its
release time from the cube-list snapshot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from dfc_assets.registry.fields import EntryFields
from dfc_assets.registry.spec import DatasetSpec, StatcanTableSource
from dfc_assets.settings import Settings
from dfc_assets.sources.cadence import Release
from dfc_assets.sources.content_check import ExpectedContent
from dfc_assets.sources.http_download import DownloadedFile, SourceError
from dfc_assets.sources.state import ChangeCheck, ChangeContext, UpstreamRelease
from dfc_assets.sources.statcan_wds import WdsClient
from dfc_assets.versions import next_free_version, release_of, validate_version_key

NAME = "statcan_table"
SOURCE_TYPE = StatcanTableSource
SOURCE_FIELDS = frozenset({"kind", "product_id", "languages", "fiscal_year_start_month", "ragged_rows"})
# See sources/cadence.py: a version at most every three weeks for tables that change every business day.
DEFAULT_VERSION_INTERVAL_DAYS = 21
CUBE_METADATA_SUFFIX = ".cube-metadata.json"
EASTERN = ZoneInfo("America/Toronto")
MAX_DAYS_ASKED = 7


def parse_source(fields: EntryFields) -> StatcanTableSource:
    from dfc_assets.registry.load import PRODUCT_ID_PATTERN

    languages = fields.strings("languages", default=("en",))
    if not languages or set(languages) - {"en", "fr"}:
        raise fields.error("languages", f"expected a non-empty subset of ['en', 'fr'], got {list(languages)}")
    return StatcanTableSource(
        product_id=fields.string("product_id", pattern=PRODUCT_ID_PATTERN),
        languages=languages,
        fiscal_year_start_month=fields.integer("fiscal_year_start_month", 7, 1, 12),
        ragged_rows=fields.choice("ragged_rows", ("error", "skip"), "error"),
    )


def _table(spec: DatasetSpec) -> StatcanTableSource:
    assert isinstance(spec.source, StatcanTableSource)
    return spec.source


def parse_release_time(text: str) -> datetime:
    """A WDS releaseTime as an aware datetime: UTC when it says so ('...Z', the cube list), else Eastern (metadata, changed list)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=EASTERN)


def release_day(moment: datetime) -> str:
    """The version key of a release: its Eastern calendar day."""
    return validate_version_key(moment.astimezone(EASTERN).strftime("%Y-%m-%d"))


def wds_days_to_ask(now: datetime, since: datetime | None = None) -> list[str]:
    """Eastern days whose releases may be unseen: yesterday and today (a tick may straddle midnight), and every
    day since the previous tick when it is longer ago (at most a week)."""
    today = now.astimezone(EASTERN).date()
    first = today - timedelta(days=1)
    if since is not None:
        first = max(min(first, since.astimezone(EASTERN).date()), today - timedelta(days=MAX_DAYS_ASKED - 1))
    return [(first + timedelta(days=n)).isoformat() for n in range((today - first).days + 1)]


def expected_content(spec: DatasetSpec) -> ExpectedContent:
    return "zip"


def current_release(spec: DatasetSpec, settings: Settings, client: httpx.Client, label: str) -> UpstreamRelease:
    source = _table(spec)
    wds = WdsClient(client, settings.wds_base_url)
    try:
        metadata = wds.cube_metadata(source.product_id)
        urls = tuple(wds.full_table_csv_url(source.product_id, language) for language in source.languages)
    except SourceError as error:
        raise SourceError(f"{label}: {error}") from None
    release_time = metadata.get("releaseTime")
    if not release_time:
        raise SourceError(f"{label}: WDS metadata of table {source.product_id} has no releaseTime")
    return UpstreamRelease(spec.id, release_day(parse_release_time(release_time)), release_time, urls, metadata)


def fetch_release(spec: DatasetSpec, version: str, settings: Settings, client: httpx.Client, dest_dir: Path,
                  fetch: Callable[[str], DownloadedFile], label: str) -> list[DownloadedFile]:
    from dfc_assets.sources.release import refuse_moved_on

    release = current_release(spec, settings, client, label)
    refuse_moved_on(label, version, release)
    return [*(fetch(url) for url in release.urls), _metadata_file(spec, release, settings, dest_dir)]


def _metadata_file(spec: DatasetSpec, release: UpstreamRelease, settings: Settings, dest_dir: Path) -> DownloadedFile:
    """The getCubeMetadata answer is archived beside the CSV so a rebuild from archive/ sees the same metadata."""
    product_id = _table(spec).product_id
    data = (json.dumps(release.cube_metadata, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
    path = dest_dir / f"{product_id}{CUBE_METADATA_SUFFIX}"
    path.write_bytes(data)
    return DownloadedFile(
        url=f"{settings.wds_base_url.rstrip('/')}/getCubeMetadata#productId={product_id}",
        file_name=path.name, path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
        etag=None, last_modified=None, retrieved_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def changed_tables(wds: WdsClient, days: Sequence[str]) -> dict[str, datetime]:
    """product id -> latest release time over ``days`` (one getChangedCubeList per day)."""
    changed: dict[str, datetime] = {}
    for day in days:
        for product_id, text in wds.changed_cubes(day).items():
            if text:
                moment = parse_release_time(text)
                if product_id not in changed or moment > changed[product_id]:
                    changed[product_id] = moment
    return changed


def _new_release(spec: DatasetSpec, context: ChangeContext, moment: datetime, how: str) -> ChangeCheck:
    state, known = context.state(spec.key), context.known_versions(spec.key)
    day = release_day(moment)
    version = next_free_version(day, known.versions)
    new_state = replace(state, release_time=moment.astimezone(timezone.utc).isoformat(timespec="seconds"), version=version)
    return ChangeCheck(spec.key, version, new_state, f"new release {moment.astimezone(EASTERN):%Y-%m-%d %H:%M} Eastern ({how})",
                       release=Release(version, moment))


def check_changes(specs: Sequence[DatasetSpec], context: ChangeContext) -> list[ChangeCheck]:
    """O(changed) requests: the changed-cube list for the days to ask, then one getCubeMetadata per table that is
    neither known nor in the cube-list snapshot."""
    wds = WdsClient(context.client, context.settings.wds_base_url)
    try:
        changed: dict[str, datetime] | None = changed_tables(wds, wds_days_to_ask(context.now, context.last_tick))
        failure = None
    except (SourceError, ValueError) as error:
        changed, failure = None, f"WDS getChangedCubeList failed ({error}); retried next tick"
    results: dict[str, ChangeCheck] = {}
    unseen: list[DatasetSpec] = []
    for spec in specs:
        product_id = _table(spec).product_id
        state, known = context.state(spec.key), context.known_versions(spec.key)
        seen = parse_release_time(state.release_time) if state.release_time else None
        moment = changed.get(product_id) if changed else None
        if moment is not None:
            if seen is not None and moment <= seen:
                results[spec.key] = ChangeCheck(spec.key, None, state, f"release {state.release_time} already seen")
            elif seen is None and any(release_of(v) == release_day(moment) for v in known.versions):
                caught_up = replace(state, release_time=moment.astimezone(timezone.utc).isoformat(timespec="seconds"))
                results[spec.key] = ChangeCheck(spec.key, None, caught_up, f"release {release_day(moment)} is already a version")
            else:
                results[spec.key] = _new_release(spec, context, moment, "WDS getChangedCubeList")
        elif known.versions or seen is not None:
            if failure:
                results[spec.key] = ChangeCheck(spec.key, None, state, "check failed", error=f"dataset {spec.key}: {failure}")
            else:
                results[spec.key] = ChangeCheck(spec.key, None, state, "not in WDS getChangedCubeList")
        elif (cube := context.cube_list.by_product_id.get(product_id) if context.cube_list else None) and cube.get("releaseTime"):
            results[spec.key] = _new_release(spec, context, parse_release_time(cube["releaseTime"]), "never published; cube-list snapshot")
        else:
            unseen.append(spec)
    for check in context.each_in_pool(unseen, _check_by_metadata):
        results[check.dataset] = check
    return [results[spec.key] for spec in specs]


def _check_by_metadata(spec: DatasetSpec, context: ChangeContext) -> ChangeCheck:
    metadata = WdsClient(context.client, context.settings.wds_base_url).cube_metadata(_table(spec).product_id)
    text = metadata.get("releaseTime")
    if not text:
        raise SourceError(f"dataset {spec.key}: WDS metadata of table {_table(spec).product_id} has no releaseTime")
    return _new_release(spec, context, parse_release_time(text), "never published; WDS getCubeMetadata")


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]):
    from dfc_assets.transform.statcan_table import statcan_table_to_parquet

    source = _table(spec)
    zips = [path for path in files if path.suffix == ".zip"]
    metadata_files = [path for path in files if path.name.endswith(CUBE_METADATA_SUFFIX)]
    if not zips:
        raise SourceError(f"dataset {spec.key} version {version}: no CSV zip among the archived files")
    cube_metadata = json.loads(metadata_files[0].read_text(encoding="utf-8")) if metadata_files else None
    return statcan_table_to_parquet(
        zips[0], out_path, product_id=source.product_id, cube_metadata=cube_metadata,
        fiscal_year_start_month=source.fiscal_year_start_month, ragged_rows=source.ragged_rows, log=log,
    )


def source_config(spec: DatasetSpec, version: str) -> dict:
    source = _table(spec)
    return {
        "kind": source.kind, "product_id": source.product_id, "languages": list(source.languages),
        "fiscal_year_start_month": source.fiscal_year_start_month, "ragged_rows": source.ragged_rows,
    }
