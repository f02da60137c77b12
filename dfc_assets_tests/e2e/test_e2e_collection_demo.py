"""The README's collection demo, small: `dfc demo` on a statcan_tables collection of the synthetic WDS, as a user runs it.

`DFC_SAMPLE_WDS_TABLES=N DFC_REGISTRY=dfc_assets/registry/examples/statcan-tables.yaml dfc demo --workdir DIR`:
every current table (the synthetic ones and the real 33100036) is published with its own concept DOI, torrent,
STAC item and catalog row; `dfc demo --json` lists them; `dfc status`, `dfc versions statcan_table_{pid}` and
`dfc verify` answer for a member; a second demo launches no publishing run and creates nothing new; a third, after
one version lost its torrent and STAC item (a crash after zenodo_record), runs that version alone and finishes it.
DFC_E2E_DEMO_TABLES sets N (default 4, for the suite's time; the demo itself runs in its own process, the operator
commands in this one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dfc_assets.cli.main import main
from dfc_assets.defs.jobs import publish_job_name
from dfc_assets.registry import forget_registered_datasets, packaged_registry_path, statcan_table_id, statcan_table_key
from dfc_assets.services.synthetic_wds import synthetic_cubes

pytestmark = pytest.mark.e2e
TABLES = int(os.environ.get("DFC_E2E_DEMO_TABLES", "4"))
SEED = 3
REAL_TABLE = "33100036"
EXAMPLE = packaged_registry_path().parent / "examples" / "statcan-tables.yaml"
TIMEOUT = 600


def the_demo_environment(workdir: Path) -> dict[str, str]:
    return {"DFC_SAMPLE_WDS_TABLES": str(TABLES), "DFC_SAMPLE_WDS_SEED": str(SEED), "DFC_REGISTRY": str(EXAMPLE),
            "DFC_CACHE_DIR": str(workdir.parent / "cache")}


def demo(workdir: Path) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DFC_", "DAGSTER_"))}
    result = subprocess.run([sys.executable, "-m", "dfc_assets.cli.main", "demo", "--json", "--workdir", str(workdir)],
                            capture_output=True, text=True, timeout=TIMEOUT, env=env | the_demo_environment(workdir))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(result.stdout)


def publishing_runs(workdir: Path) -> list[dg.DagsterRun]:
    """The runs of a publishing job recorded in the demo's Dagster instance (dagster_home/ of the workdir)."""
    with dg.DagsterInstance.from_config(str(workdir / "dagster_home")) as instance:
        return [run for run in instance.get_runs() if run.job_name.startswith(publish_job_name(""))]


@pytest.fixture
def dfc(capsys, monkeypatch):
    """An operator command in this process, in the demo's environment: its JSON answer."""

    def run(workdir: Path, *argv: str) -> dict:
        for name in [name for name in os.environ if name.startswith(("DFC_", "DAGSTER_"))]:
            monkeypatch.delenv(name)
        for name, value in the_demo_environment(workdir).items():
            monkeypatch.setenv(name, value)
        forget_registered_datasets()
        capsys.readouterr()
        assert main([*argv, "--json", "--workdir", str(workdir)]) == 0, capsys.readouterr()
        return json.loads(capsys.readouterr().out)

    yield run
    forget_registered_datasets()


def test_the_collection_demo_publishes_every_table_with_its_own_doi(tmp_path, dfc):
    workdir = tmp_path / "dfc-tables"
    members = sorted([c.product_id for c in synthetic_cubes(SEED, TABLES) if not c.archived] + [REAL_TABLE])
    keys = [statcan_table_key(pid) for pid in members]

    report = demo(workdir)
    assert report["failures"] == []
    rows = {row["dataset_key"]: row for row in report["versions"]}
    assert sorted(rows) == keys and len(report["versions"]) == len(keys)
    assert all(rows[statcan_table_key(pid)]["dataset"] == statcan_table_id(pid) for pid in members)
    assert len({row["concept_doi"] for row in rows.values()}) == len(keys)  # a concept DOI per table
    assert len({row["doi"] for row in rows.values()}) == len(keys)
    assert len({row["infohash_v2"] for row in rows.values()}) == len(keys)  # a torrent per table
    assert all(row["downloaded_sha256_matches"] and row["torrent_url"].endswith(".torrent") and row["processed_url"] for row in rows.values())
    assert report["catalog_rows"] == len(keys)

    status = dfc(workdir, "status")
    published = {entry["dataset"]: entry for entry in status["datasets"]}
    assert sorted(published) == keys and all(entry["healthy"] for entry in published.values()) and status["catalog"]["ok"]

    member = rows[keys[0]]
    versions = dfc(workdir, "versions", member["dataset_key"])
    assert versions["dataset_id"] == member["dataset"]
    assert [(v["version"], v["doi"]) for v in versions["versions"]] == [(member["version"], member["doi"])]
    by_id = dfc(workdir, "versions", member["dataset"])
    assert by_id["dataset"] == member["dataset_key"]

    verified = dfc(workdir, "verify", member["dataset_key"], member["version"])
    assert verified["passed"] and {check["name"] for check in verified["checks"]} >= {"artifact_matches_manifest", "web_seeds_serve_the_torrent"}

    runs = len(publishing_runs(workdir))
    again = demo(workdir)  # the same folder: every version is published already, no run, nothing new is created
    assert again["failures"] == [] and again["already_published"] == len(keys)
    assert len(publishing_runs(workdir)) == runs
    assert {(r["dataset_key"], r["version"], r["doi"], r["concept_doi"]) for r in again["versions"]} == {
        (r["dataset_key"], r["version"], r["doi"], r["concept_doi"]) for r in rows.values()}
    releases = workdir / "store" / "releases"
    assert sorted(p.name for p in releases.iterdir()) == sorted(statcan_table_id(pid) for pid in members)
    assert all(len(list((releases / statcan_table_id(pid)).iterdir())) == 1 for pid in members)

    # one version stopped after zenodo_record (its torrents and STAC item never written): the rerun runs it alone
    broken = rows[keys[-1]]
    folder = releases / broken["dataset"] / broken["version"]
    for path in [*folder.glob("*.torrent"), *folder.glob("*.item.json")]:
        path.unlink()
    for path in (workdir / "store" / "processed").glob(f"{broken['dataset']}.*"):
        path.unlink()
    healed = demo(workdir)
    assert healed["failures"] == [] and healed["already_published"] == len(keys) - 1
    after = publishing_runs(workdir)  # newest first
    resumed = after[: len(after) - runs]
    assert [run.tags.get("dagster/partition") for run in resumed] == [f"{broken['dataset_key']}:{broken['version']}"]
    row = next(r for r in healed["versions"] if r["dataset_key"] == broken["dataset_key"])
    assert (row["doi"], row["downloaded_sha256_matches"]) == (broken["doi"], True) and row["processed_url"]
    assert healed["catalog_rows"] == len(keys)
