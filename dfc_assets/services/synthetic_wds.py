"""A synthetic StatCan WDS of any number of tables, generated deterministically from a seed and a count.

The sample-source server answers WDS calls for these tables beside the real sample table:
``getAllCubesListLite``, ``getChangedCubeList``, ``getCubeMetadata``, ``getFullTableDownloadCSV``
(small CSV zips, the same bytes for the same release) and ``getCodeSets``. Its configuration is
one file in the sample-source folder, ``wds/synthetic.json``::

    {"seed": 7, "count": 300, "releases": {"10101000": ["2025-06-12T12:30:00+00:00"]}}

``configure_synthetic_wds(root, seed=, count=)`` writes it; ``publish_synthetic_release(root,
product_ids, released_at)`` makes the chosen tables publish a new release (new CSV bytes, a new
releaseTime in the cube list, the changed-cube list and the metadata), as StatCan does at 08:30.
"""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/Toronto")
CONFIG_PATH = "wds/synthetic.json"
# First two digits of a product id: the subject (real StatCan subject codes and names).
SUBJECTS = {
    "10": ("Government", "Gouvernement"), "11": ("Income, pensions, spending and wealth", "Revenu, pensions, dépenses et richesse"),
    "12": ("International trade", "Commerce international"), "13": ("Health", "Santé"), "14": ("Labour", "Travail"),
    "17": ("Population and demography", "Population et démographie"), "18": ("Prices and price indexes", "Prix et indices des prix"),
    "20": ("Retail and wholesale", "Commerce de détail et de gros"), "23": ("Transportation", "Transport"),
    "25": ("Energy", "Énergie"), "32": ("Agriculture and food", "Agriculture et alimentation"),
    "33": ("Business performance and ownership", "Rendement des entreprises et propriété"), "34": ("Construction", "Construction"),
    "36": ("Economic accounts", "Comptes économiques"), "37": ("Education, training and learning", "Éducation, formation et apprentissage"),
    "38": ("Environment", "Environnement"), "43": ("Immigration and ethnocultural diversity", "Immigration et diversité ethnoculturelle"),
    "46": ("Housing", "Logement"),
}
FREQUENCIES = {1: ("Daily", "Quotidienne"), 6: ("Monthly", "Mensuelle"), 9: ("Quarterly", "Trimestrielle"), 12: ("Annual", "Annuelle")}
FIRST_RELEASE = datetime(2025, 6, 2, 12, 30, tzinfo=timezone.utc)  # 08:30 Eastern
ARCHIVED_EVERY = 20  # every 20th synthetic table is archived (getAllCubesListLite archived "1")
HEADER = ["REF_DATE", "GEO", "DGUID", "Indicator", "UOM", "UOM_ID", "SCALAR_FACTOR", "SCALAR_ID", "VECTOR", "COORDINATE",
          "VALUE", "STATUS", "SYMBOL", "TERMINATED", "DECIMALS"]


@dataclass(frozen=True)
class SyntheticCube:
    product_id: str
    index: int
    title_en: str
    title_fr: str
    subject_codes: tuple[str, ...]
    survey_code: str
    frequency: int
    archived: bool
    first_release: datetime

    def lite(self, latest: datetime) -> dict:
        """The getAllCubesListLite entry (productId an int, releaseTime in UTC)."""
        return {
            "productId": int(self.product_id), "cansimId": None, "cubeTitleEn": self.title_en, "cubeTitleFr": self.title_fr,
            "cubeStartDate": "2015-01-01", "cubeEndDate": "2024-01-01", "releaseTime": latest.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "archived": "1" if self.archived else "2", "subjectCode": list(self.subject_codes), "surveyCode": [self.survey_code],
            "frequencyCode": self.frequency, "corrections": [], "issueDate": "2017-03-02",
        }

    def metadata(self, latest: datetime, releases: int) -> dict:
        """The getCubeMetadata object (productId a string, releaseTime Eastern without an offset)."""
        return {
            "responseStatusCode": 0, "productId": self.product_id, "cansimId": None, "cubeTitleEn": self.title_en,
            "cubeTitleFr": self.title_fr, "cubeStartDate": "2015-01-01", "cubeEndDate": "2024-01-01", "frequencyCode": self.frequency,
            "nbSeriesCube": 2, "nbDatapointsCube": len(table_rows(self, releases)), "releaseTime": eastern_text(latest),
            "archiveStatusCode": "1" if self.archived else "2", "subjectCode": list(self.subject_codes), "surveyCode": [self.survey_code],
            "dimension": [
                {"dimensionPositionId": 1, "dimensionNameEn": "Geography", "dimensionNameFr": "Géographie", "hasUom": False, "member": []},
                {"dimensionPositionId": 2, "dimensionNameEn": "Indicator", "dimensionNameFr": "Indicateur", "hasUom": True, "member": []},
            ],
            "footnote": [], "correctionFootnote": [], "correction": [], "issueDate": "2017-03-02",
        }


def eastern_text(moment: datetime) -> str:
    return moment.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M")


@lru_cache(maxsize=8)
def synthetic_cubes(seed: int, count: int) -> tuple[SyntheticCube, ...]:
    subjects = sorted(SUBJECTS)
    cubes = []
    for index in range(count):
        rng = random.Random(f"{seed}:{index}")
        subject = subjects[index % len(subjects)]
        number = index // len(subjects)
        if number > 8999:
            raise ValueError(f"at most {9000 * len(subjects)} synthetic tables")
        name_en, name_fr = SUBJECTS[subject]
        topic = rng.choice(["activity", "counts", "rates", "estimates", "indexes", "volumes"])
        cubes.append(SyntheticCube(
            product_id=f"{subject}10{1000 + number:04d}", index=index,
            title_en=f"Synthetic {name_en.lower()} {topic}, table {index}",
            title_fr=f"{topic.capitalize()} synthétiques, {name_fr.lower()}, tableau {index}",
            subject_codes=(subject, f"{subject}{rng.randint(1, 9):02d}"), survey_code=str(5000 + index % 50),
            frequency=rng.choice(sorted(FREQUENCIES)), archived=index % ARCHIVED_EVERY == ARCHIVED_EVERY - 1,
            first_release=FIRST_RELEASE - timedelta(days=index % 30),
        ))
    return tuple(cubes)


def code_sets() -> dict:
    subjects = []
    for code, (en, fr) in sorted(SUBJECTS.items()):
        subjects.append({"subjectCode": code, "subjectEn": en, "subjectFr": fr})
        subjects += [{"subjectCode": f"{code}{n:02d}", "subjectEn": f"{en}, topic {n}", "subjectFr": f"{fr}, sujet {n}"} for n in range(1, 10)]
    frequencies = [{"frequencyCode": code, "frequencyDescEn": en, "frequencyDescFr": fr} for code, (en, fr) in sorted(FREQUENCIES.items())]
    return {"subject": subjects, "frequency": frequencies, "survey": [], "scalar": [], "status": [], "symbol": [], "uom": []}


def table_rows(cube: SyntheticCube, releases: int) -> list[list[str]]:
    """Two series over ten years; each release revises the values (new bytes) and adds a year."""
    rng = random.Random(f"{cube.product_id}:{releases}")
    rows = []
    for series, indicator in enumerate(("Total", "Per capita"), start=1):
        for year in range(2015, 2025 + releases):
            value = f"{rng.uniform(10, 1000):.2f}"
            rows.append([str(year), "Canada", "2016A000011124", indicator, "Dollars", "81", "units", "0",
                         f"v{int(cube.product_id) % 10_000_000 * 10 + series}", f"1.{series}", value, "", "", "", "2"])
    return rows


def table_zip(cube: SyntheticCube, releases: int, latest: datetime) -> bytes:
    """The full-table CSV zip: ``{pid}.csv`` and ``{pid}_MetaData.csv``, the same bytes for the same release."""
    data = io.StringIO()
    writer = csv.writer(data, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(table_rows(cube, releases))
    meta = io.StringIO()
    csv.writer(meta, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([
        ["Cube Title", "Product Id", "CANSIM Id", "URL", "Cube Notes", "Archive Status", "Frequency"],
        [cube.title_en, cube.product_id, "", "", "", "CURRENT", FREQUENCIES[cube.frequency][0]],
    ])
    stamp = latest.astimezone(EASTERN).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in ((f"{cube.product_id}.csv", data.getvalue()), (f"{cube.product_id}_MetaData.csv", meta.getvalue())):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, ("\ufeff" + text).encode("utf-8"))
    return buffer.getvalue()


@dataclass(frozen=True)
class SyntheticWds:
    """The synthetic tables a sample-source folder serves, with their releases."""

    seed: int
    count: int
    releases: dict[str, tuple[datetime, ...]]

    @classmethod
    def read(cls, root: Path) -> "SyntheticWds | None":
        path = Path(root) / CONFIG_PATH
        if not path.is_file():
            return None
        config = json.loads(path.read_text(encoding="utf-8"))
        releases = {pid: tuple(datetime.fromisoformat(t) for t in times) for pid, times in (config.get("releases") or {}).items()}
        return cls(seed=int(config["seed"]), count=int(config["count"]), releases=releases)

    @property
    def cubes(self) -> tuple[SyntheticCube, ...]:
        return synthetic_cubes(self.seed, self.count)

    def cube(self, product_id: str) -> SyntheticCube | None:
        return _cube_index(self.seed, self.count).get(str(product_id))

    def release_times(self, cube: SyntheticCube) -> tuple[datetime, ...]:
        return (cube.first_release, *self.releases.get(cube.product_id, ()))

    def latest(self, cube: SyntheticCube) -> tuple[datetime, int]:
        """(latest release time, number of releases after the first)."""
        times = self.release_times(cube)
        return times[-1], len(times) - 1

    def changed_on(self, day: str) -> list[dict]:
        """getChangedCubeList entries of an Eastern day."""
        changed = []
        for cube in self.cubes:
            for moment in self.release_times(cube):
                if moment.astimezone(EASTERN).strftime("%Y-%m-%d") == day:
                    changed.append({"responseStatusCode": 0, "productId": int(cube.product_id), "releaseTime": eastern_text(moment)})
        return changed


@lru_cache(maxsize=8)
def _cube_index(seed: int, count: int) -> dict[str, SyntheticCube]:
    return {cube.product_id: cube for cube in synthetic_cubes(seed, count)}


def _write_config(root: Path, config: dict) -> None:
    path = Path(root) / CONFIG_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(config, indent=1, sort_keys=True), encoding="utf-8")
    temp.replace(path)


def configure_synthetic_wds(root: Path, *, seed: int, count: int) -> None:
    """Serve ``count`` synthetic tables generated from ``seed`` (no releases beyond the first)."""
    _write_config(root, {"seed": seed, "count": count, "releases": {}})


def synthetic_product_ids(root: Path, *, include_archived: bool = False) -> list[str]:
    wds = SyntheticWds.read(root)
    return [cube.product_id for cube in wds.cubes if include_archived or not cube.archived] if wds else []


def publish_synthetic_release(root: Path, product_ids: Iterable[str], released_at: datetime) -> None:
    """The chosen synthetic tables publish a new release at ``released_at`` (timezone-aware)."""
    if released_at.tzinfo is None:
        raise ValueError("released_at must be timezone-aware")
    wds = SyntheticWds.read(root)
    if wds is None:
        raise ValueError(f"{root} serves no synthetic WDS; call configure_synthetic_wds first")
    releases = {pid: [t.isoformat() for t in times] for pid, times in wds.releases.items()}
    for product_id in dict.fromkeys(str(pid) for pid in product_ids):
        cube = wds.cube(product_id)
        if cube is None:
            raise ValueError(f"{product_id} is not a synthetic table of {root}")
        if released_at <= wds.latest(cube)[0]:
            raise ValueError(f"table {product_id}: a new release must come after {wds.latest(cube)[0].isoformat()}")
        releases.setdefault(product_id, []).append(released_at.astimezone(timezone.utc).isoformat())
    _write_config(root, {"seed": wds.seed, "count": wds.count, "releases": releases})
