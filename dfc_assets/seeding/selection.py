"""Which offers a volunteer seeds: chosen datasets, optionally only their latest version, within a disk budget."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from dfc_assets.versions import version_sort_key

from .offers import Offer


@dataclass(frozen=True)
class Selection:
    datasets: tuple[str, ...] = ()      # dataset ids or shell patterns (`ca_statcan_*`); empty = every dataset
    latest_only: bool = False           # only the newest version (release order) of each dataset
    budget_bytes: int | None = None     # None = no limit

    def wants(self, dataset_id: str) -> bool:
        return not self.datasets or any(fnmatchcase(dataset_id, pattern) for pattern in self.datasets)


def choose(offers: Iterable[Offer], selection: Selection) -> list[Offer]:
    """The offers to seed, deterministic for the same input.

    Versions are ranked newest first by their own release order (not by publication time: a backfilled old
    version stays old). The budget is filled round by round: every chosen dataset's newest version, then each
    one's second newest, and so on; a version that does not fit is skipped and smaller ones may still fit.
    """
    by_dataset: dict[str, dict[str, Offer]] = defaultdict(dict)
    for offer in offers:
        if selection.wants(offer.dataset_id):
            by_dataset[offer.dataset_id].setdefault(offer.version, offer)
    ranked = []
    for dataset_id, versions in by_dataset.items():
        newest_first = sorted(versions, key=version_sort_key, reverse=True)
        if selection.latest_only:
            newest_first = newest_first[:1]
        ranked += [(rank, dataset_id, versions[v]) for rank, v in enumerate(newest_first)]
    chosen, used, seen = [], 0, set()
    for _, _, offer in sorted(ranked, key=lambda r: (r[0], r[1])):
        if offer.infohash_v1 in seen:
            continue
        if selection.budget_bytes is not None and used + offer.size > selection.budget_bytes:
            continue
        chosen.append(offer)
        seen.add(offer.infohash_v1)
        used += offer.size
    return chosen


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3, "t": 1000**4,
          "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def parse_size(text: str) -> int:
    """'500GB', '1.5 TiB', '20g', '1048576' -> bytes (decimal units unless written KiB/MiB/GiB/TiB)."""
    cleaned = text.strip().lower().replace(" ", "")
    number = cleaned.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = cleaned[len(number):]
    if not number or unit not in _UNITS:
        raise ValueError(f"cannot read the size {text!r}: write e.g. 500GB, 1.5TiB or a number of bytes")
    return int(float(number) * _UNITS[unit])
