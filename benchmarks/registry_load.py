"""Loading a registry of N individual statcan_table entries (today's format) against a collection of N tables.

Both end with N DatasetSpecs. The collection is expanded from a cube-list snapshot of N synthetic cubes read
from bytes, as registered_datasets does after its one GET. The individual file is timed twice: its first load
in a fresh cache folder (YAML parse and validation: what a new operator meets, and the first process after an
edit of the registry) and every later load (the validated registry kept by ``registry.parsed_cache`` from the
second load on, which pays the pickling once). The modules are imported before any timing (a tiny registry is loaded first), so
that neither side pays them. Each figure is the best of three (a first load three times, each in an empty cache folder). Prints which YAML
reader read the file (``strict_yaml``: the fast one where
``yaml_rs`` is installed), the times and the ratios to the collection (issue 11 asks for about 1).
Run: python benchmarks/registry_load.py [--tables 10000] [--reference]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dfc_assets.registry import CubeListSnapshot, load_registry  # noqa: E402
from dfc_assets.registry.cube_list import trim_cube  # noqa: E402
from dfc_assets.registry.strict_yaml import read_fast  # noqa: E402
from dfc_assets.services.synthetic_wds import code_sets, synthetic_cubes  # noqa: E402

ENTRY = """  - key: statcan_table_{pid}
    id: ca_statcan_2021A000011124_d4c-datapkg-statistical_table_{pid}
    title:
      en: "{en}"
      fr: "{fr}"
    description:
      en: Statistics Canada table {pid}, the full table as analysis-ready Parquet.
      fr: Tableau {pid} de Statistique Canada, le tableau complet en Parquet.
    producer: Statistics Canada
    producer_url: https://www.statcan.gc.ca
    license: OGL-Canada-2.0
    license_url: https://www.statcan.gc.ca/en/reference/licence
    keywords: [statistics canada, wds table]
    creators: ["Statistics Canada", "Data for Canada"]
    owners: ["team:data-for-canada"]
    source:
      kind: statcan_table
      product_id: "{pid}"
      languages: [en]
"""
COLLECTION = """collections:
  - key: statcan_tables
    kind: statcan_tables
    producer: Statistics Canada
    producer_url: https://www.statcan.gc.ca
    license: OGL-Canada-2.0
    license_url: https://www.statcan.gc.ca/en/reference/licence
    keywords: [statistics canada, wds table]
    owners: ["team:data-for-canada"]
    filters: {include_archived: true}
"""


def best_of(runs: int, work) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        count = len(work())
        times.append(time.perf_counter() - started)
    return min(times), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--reference", action="store_true", help="also time one first load with the reference reader (PyYAML)")
    args = parser.parse_args()
    cubes = synthetic_cubes(1, args.tables)
    subjects = {s["subjectCode"]: {"en": s["subjectEn"], "fr": s["subjectFr"]} for s in code_sets()["subject"]}
    snapshot_bytes = CubeListSnapshot("2025-06-20T00:00:00+00:00", tuple(trim_cube(c.lite(c.first_release)) for c in cubes), subjects).to_bytes()
    with tempfile.TemporaryDirectory() as work:
        individual = Path(work) / "individual.yaml"
        individual.write_text("datasets:\n" + "".join(ENTRY.format(pid=c.product_id, en=c.title_en, fr=c.title_fr) for c in cubes), encoding="utf-8")
        collection = Path(work) / "collection.yaml"
        collection.write_text(COLLECTION, encoding="utf-8")
        size_mb = individual.stat().st_size / 1e6
        os.environ["DFC_CACHE_DIR"] = str(Path(work) / "cache")
        tiny = Path(work) / "tiny.yaml"
        tiny.write_text("datasets:\n" + ENTRY.format(pid=cubes[0].product_id, en="t", fr="t") + COLLECTION, encoding="utf-8")
        load_registry(tiny).datasets(CubeListSnapshot.from_bytes(snapshot_bytes))
        reader = "fast (yaml_rs)" if read_fast(individual.read_text(encoding="utf-8"))[0] else "reference (PyYAML on libyaml)"
        fresh = iter(range(3))

        def first_load():
            os.environ["DFC_CACHE_DIR"] = str(Path(work) / f"first-{next(fresh)}")  # an empty cache each time
            return load_registry(individual).entries

        first, n_individual = best_of(3, first_load)
        load_registry(individual)  # the second load of the content: it is kept from here on
        later, _ = best_of(3, lambda: load_registry(individual).entries)
        anchor, n_members = best_of(3, lambda: load_registry(collection).datasets(CubeListSnapshot.from_bytes(snapshot_bytes)))
        reference = None
        if args.reference:
            from dfc_assets.registry import strict_yaml

            strict_yaml.yaml_rs, os.environ["DFC_CACHE_DIR"] = None, str(Path(work) / "reference")
            reference, _ = best_of(1, lambda: load_registry(individual).entries)
    assert n_individual == n_members == args.tables, (n_individual, n_members)
    print(f"{args.tables} individual entries ({size_mb:.1f} MB YAML, read by the {reader} reader): first load {first:.2f} s, "
          f"later loads {later:.2f} s")
    print(f"collection of {args.tables} (anchor): {anchor:.2f} s")
    print(f"ratio individual / collection: first load {first / anchor:.2f}, later loads {later / anchor:.2f}")
    if reference is not None:
        print(f"first load with the reference reader (PyYAML on libyaml): {reference:.2f} s, {reference / anchor:.2f} x the collection")


if __name__ == "__main__":
    main()
