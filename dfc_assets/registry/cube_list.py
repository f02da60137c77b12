"""The cube-list snapshot: StatCan's list of WDS tables, kept once in the store.

``state/statcan/cube-list.json`` holds what ``getAllCubesListLite`` and ``getCodeSets`` answered
(trimmed to the fields collections and change detection use). The sensor refreshes it daily;
everything else reads it with one GET. Collections expand from it, and a table never published
yet takes its first release time from it instead of a request per table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property

import httpx

CUBE_LIST_KEY = "state/statcan/cube-list.json"
SNAPSHOT_FORMAT = 1
CUBE_FIELDS = ("productId", "cubeTitleEn", "cubeTitleFr", "releaseTime", "archived", "subjectCode", "surveyCode", "frequencyCode")


@dataclass(frozen=True)
class CubeListSnapshot:
    fetched_at: str
    cubes: tuple[dict, ...]
    subjects: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # subject code -> {"en": ..., "fr": ...}

    @cached_property
    def by_product_id(self) -> dict[str, dict]:
        return {str(cube["productId"]): cube for cube in self.cubes}

    def subject_name(self, code: str, language: str = "en") -> str | None:
        names = self.subjects.get(str(code))
        return names.get(language) if names else None

    def to_bytes(self) -> bytes:
        document = {"format": SNAPSHOT_FORMAT, "fetched_at": self.fetched_at, "subjects": self.subjects, "cubes": list(self.cubes)}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str = CUBE_LIST_KEY) -> "CubeListSnapshot":
        try:
            document = json.loads(data)
            if document.get("format") != SNAPSHOT_FORMAT or not isinstance(document.get("cubes"), list):
                raise ValueError(f"format {document.get('format')!r}, expected {SNAPSHOT_FORMAT} with a 'cubes' list")
            return cls(fetched_at=document["fetched_at"], cubes=tuple(document["cubes"]), subjects=document.get("subjects") or {})
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{where}: not a cube-list snapshot ({error}); refresh it with refresh_cube_list") from None


def trim_cube(cube: Mapping) -> dict:
    trimmed = {name: cube[name] for name in CUBE_FIELDS if name in cube}
    trimmed["productId"] = str(cube["productId"])
    return trimmed


def fetch_cube_list(client: httpx.Client, wds_base_url: str) -> CubeListSnapshot:
    """Two WDS requests: getAllCubesListLite and getCodeSets (subject names; left out if that call fails)."""
    from dfc_assets.sources.http_download import SourceError
    from dfc_assets.sources.statcan_wds import WdsClient

    wds = WdsClient(client, wds_base_url)
    cubes = tuple(sorted((trim_cube(cube) for cube in wds.all_cubes_list_lite()), key=lambda cube: cube["productId"]))
    try:
        code_sets = wds.code_sets()
    except SourceError:
        code_sets = {}
    subjects = {
        str(entry["subjectCode"]): {k: v for k, v in (("en", entry.get("subjectEn")), ("fr", entry.get("subjectFr"))) if v}
        for entry in code_sets.get("subject") or () if isinstance(entry, Mapping) and "subjectCode" in entry
    }
    return CubeListSnapshot(fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), cubes=cubes, subjects=subjects)


def refresh_cube_list(store, client: httpx.Client, wds_base_url: str) -> CubeListSnapshot:
    """Fetch the cube list (two WDS requests), store it (one PUT) and make this process use it."""
    from dfc_assets.registry.registered import forget_registered_datasets

    snapshot = fetch_cube_list(client, wds_base_url)
    store.put_bytes(CUBE_LIST_KEY, snapshot.to_bytes(), content_type="application/json")
    forget_registered_datasets()
    return snapshot


def read_cube_list(store) -> CubeListSnapshot | None:
    """The stored snapshot (one GET), or None when no snapshot was ever taken."""
    try:
        data = store.get_bytes(CUBE_LIST_KEY)
    except KeyError:
        return None
    return CubeListSnapshot.from_bytes(data, where=f"{store.describe()}/{CUBE_LIST_KEY}")
