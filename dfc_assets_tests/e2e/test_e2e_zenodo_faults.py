"""Issue 3 through Dagster: a Zenodo fault at each step, then materialize again; and the token never leaks."""

from __future__ import annotations

import hashlib
import json

import dagster as dg
import httpx
import pytest

from dfc_assets.registry import load_registry
from dfc_assets.services.sample_sources import install_statcan_table, sample_table_dir
from dfc_assets.storage import VersionKeys

pytestmark = pytest.mark.e2e
SPECS = {spec.key: spec for spec in load_registry()}
TABLE, BOUNDARY = SPECS["statcan_table_33100036"], SPECS["fixture_provinces_territories"]

# (route, status, after): after=True means Zenodo did the work, then answered the error
NEW_VERSION_FAULTS = [
    ("record_versions_create", 500, True),
    ("bucket_put", "reset", False),
    ("bucket_put", "corrupt", False),
    ("update", 429, False),
    ("update", 502, False),
    ("publish", 502, True),
    ("publish", 504, False),
    ("publish", "reset", True),
]


@pytest.fixture(autouse=True)
def no_leftover_faults(stack):
    yield
    stack.emulator.faults.clear()


def depositions(stack) -> list[dict]:
    response = httpx.get(f"{stack.urls.zenodo_url}/api/deposit/depositions", params={"size": 100, "all_versions": "true"},
                         headers={"Authorization": f"Bearer {stack.urls.zenodo_token}"})
    response.raise_for_status()
    return response.json()


def release_table(stack, day: str) -> None:
    metadata = json.loads((sample_table_dir() / "33100036.json").read_text())
    install_statcan_table(stack.sources_root, metadata={**metadata, "releaseTime": f"{day}T08:30"}, csv_zip=sample_table_dir() / "33100036-eng.zip")


def publish_despite_faults(stack, spec, version) -> None:
    if not stack.publish(spec, version).success:
        assert stack.publish(spec, version).success, "materializing again must finish the publication"


def assert_exactly_one_published(stack, spec, version) -> None:
    record = json.loads((stack.store_root / VersionKeys(spec.id, version).zenodo_record).read_text())
    mine = [d for d in depositions(stack) if d["metadata"].get("version") == version and d["title"].startswith(spec.title.en)]
    assert [d["id"] for d in mine] == [record["record_id"]], "exactly one deposition for this version"
    assert mine[0]["state"] == "done" and mine[0]["doi"] == record["doi"]
    assert not [d["id"] for d in depositions(stack) if d["state"] == "unsubmitted"], "no stray draft"
    artifact = stack.store_root / VersionKeys(spec.id, version).artifact
    listed = {f["filename"]: f["checksum"] for f in mine[0]["files"]}
    assert listed[artifact.name] == hashlib.md5(artifact.read_bytes()).hexdigest()


def test_a_create_that_answers_500_after_creating_leaves_one_first_version(stack):
    fault = stack.emulator.faults.add("create", 500, after=True, times=1)
    publish_despite_faults(stack, BOUNDARY, "2022-02-09")
    assert fault.hits == 1
    assert_exactly_one_published(stack, BOUNDARY, "2022-02-09")


@pytest.mark.parametrize(("route", "status", "after"), NEW_VERSION_FAULTS,
                         ids=[f"{r}-{s}{'-after' if a else ''}" for r, s, a in NEW_VERSION_FAULTS])
def test_a_fault_then_materializing_again_leaves_exactly_one_published_version(stack, route, status, after):
    if not (stack.store_root / VersionKeys(TABLE.id, "2025-06-11").zenodo_record).exists():
        publish_despite_faults(stack, TABLE, "2025-06-11")
    day = f"2025-07-{10 + NEW_VERSION_FAULTS.index((route, status, after)):02d}"
    release_table(stack, day)
    fault = stack.emulator.faults.add(route, status, after=after, times=2)
    publish_despite_faults(stack, TABLE, day)
    assert fault.hits >= 1, f"the {route} fault never fired"
    assert_exactly_one_published(stack, TABLE, day)
    record = json.loads((stack.store_root / VersionKeys(TABLE.id, day).zenodo_record).read_text())
    first = json.loads((stack.store_root / VersionKeys(TABLE.id, "2025-06-11").zenodo_record).read_text())
    assert record["concept_doi"] == first["concept_doi"]


def test_the_zenodo_token_never_reaches_logs_events_metadata_or_the_store(stack):
    token = stack.urls.zenodo_token
    release_table(stack, "2025-08-01")
    fault = stack.emulator.faults.add("publish", 500, after=True)
    publish_despite_faults(stack, TABLE, "2025-08-01")
    assert fault.hits == 1
    leaks = []
    for event_type in dg.DagsterEventType:
        for record in stack.instance.get_event_records(dg.EventRecordsFilter(event_type=event_type), limit=10000):
            if token in str(record.event_log_entry):
                leaks.append(f"event {event_type.value}")
    for root in (stack.store_root, stack.workdir / "dagster_home"):
        for path in root.rglob("*"):
            if path.is_file() and token.encode() in path.read_bytes():
                leaks.append(str(path.relative_to(stack.workdir)))
    assert not leaks, f"the token leaked into: {sorted(set(leaks))}"


def test_the_published_record_is_one_a_curator_accepts(stack):
    version = "2025-06-11"
    keys = VersionKeys(TABLE.id, version)
    if not (stack.store_root / keys.zenodo_record).exists():
        publish_despite_faults(stack, TABLE, version)
    record = json.loads((stack.store_root / keys.zenodo_record).read_text())
    assert record["doi"].startswith("10.5072/") and record["concept_doi"].startswith("10.5072/")  # never a real DOI
    deposition = next(d for d in depositions(stack) if d["id"] == record["record_id"])
    metadata = deposition["metadata"]
    assert metadata["title"] == f"{TABLE.title.en} / {TABLE.title.fr} ({version})"
    assert "Statistics Canada" not in [c["name"] for c in metadata["creators"]]
    assert {c["type"] for c in metadata["contributors"] if c["name"] == "Statistics Canada"} == {"DataCollector", "RightsHolder"}
    related = {(r["relation"], r["identifier"]) for r in metadata["related_identifiers"]}
    assert ("isDerivedFrom", "10.25318/3310003601-eng") in related
    store = stack.urls.store_url
    for relation, key in (("isVariantFormOf", keys.torrent), ("hasMetadata", keys.stac_item), ("isIdenticalTo", keys.artifact),
                          ("isVariantFormOf", f"processed/{TABLE.id}.parquet")):
        assert (relation, store + key) in related
        assert httpx.get(store + key).status_code == 200, f"{key} is linked from the record but not served"
    assert metadata["dates"][0]["type"] == "Collected" and metadata["dates"][0]["start"] < metadata["dates"][0]["end"]
    assert metadata["license"] == "other-open" and "https://www.statcan.gc.ca/en/reference/licence" in metadata["description"]
    assert not [k for k in metadata["keywords"] if k.startswith("dfc-attempt:")]


def test_a_429_storm_slows_the_run_and_fails_nothing(stack):
    release_table(stack, "2025-09-02")
    storm = stack.emulator.faults.add("*", 429, times=8, retry_after=1)
    result = stack.publish(TABLE, "2025-09-02")
    assert result.success, "a run must wait out 429s, not fail"
    assert storm.hits == 8
    assert_exactly_one_published(stack, TABLE, "2025-09-02")
