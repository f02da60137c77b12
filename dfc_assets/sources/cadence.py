"""Release cadence: when a dataset's pending upstream releases become a version. Pure, no I/O.

A dataset sets ``min_version_interval`` (days; on the entry or its collection). A new version is
published once that many days have passed since the upstream release of the last published
version; releases inside the window wait and coalesce into that next version, which covers them
all (its manifest lists them as ``upstream_releases``). The default is 21 days for StatCan tables
(``statcan_table``: tables such as 33100036 change every business day, and a DOI a day per table is
not what curators or citers want; three weeks gives at most about 17 versions a year, and every
release is still archived into the next version), 0 for other kinds (boundary files, census
profiles and other files change a few times a decade: every release is a version at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dfc_assets.versions import next_free_version, version_sort_key


@dataclass(frozen=True)
class Release:
    """One upstream release: the version key it maps to (its release day) and when it happened."""

    version: str
    released_at: datetime  # timezone-aware

    def to_dict(self) -> dict:
        return {"version": self.version, "released_at": self.released_at.astimezone(timezone.utc).isoformat(timespec="seconds")}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Release":
        moment = datetime.fromisoformat(str(data["released_at"]).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError(f"release time {data['released_at']!r} has no time zone")
        return cls(version=str(data["version"]), released_at=moment)


@dataclass(frozen=True)
class PublishNow:
    """Publish ``version`` now; it covers ``releases`` (oldest first), the newest being what upstream serves."""

    version: str
    releases: tuple[Release, ...]


@dataclass(frozen=True)
class WaitUntil:
    """Nothing to publish before ``until``; ``releases`` stay pending and coalesce into the next version."""

    until: datetime
    releases: tuple[Release, ...]


Decision = PublishNow | WaitUntil | None


def decide(*, last_release: datetime | None, pending: Sequence[Release], now: datetime, min_interval_days: int,
           taken_versions: Iterable[str] = ()) -> Decision:
    """What to do with a dataset's pending releases.

    ``last_release``: upstream release time of the last published version (None: never published).
    ``pending``: releases seen since, not yet published. ``taken_versions``: version keys already used.
    None when nothing is pending.
    """
    if not pending:
        return None
    releases = tuple(sorted(dict.fromkeys(pending), key=lambda release: release.released_at))
    if last_release is not None:
        releases = tuple(release for release in releases if release.released_at > last_release)
        if not releases:
            return None
        opens = last_release + timedelta(days=min_interval_days)
        if now < opens:
            return WaitUntil(until=opens, releases=releases)
    newest = releases[-1]
    return PublishNow(version=next_free_version(newest.version, taken_versions), releases=releases)


def version_interval_days(spec) -> int:
    """The dataset's ``min_version_interval``, or its source kind's default when the registry gives none."""
    if spec.min_version_interval is not None:
        return spec.min_version_interval
    from dfc_assets.sources.kinds import source_kind

    return source_kind(spec).DEFAULT_VERSION_INTERVAL_DAYS


def newest_version(versions: Iterable[str]) -> str | None:
    ordered = sorted(versions, key=version_sort_key)
    return ordered[-1] if ordered else None
