"""publish_version against the emulator: first and next versions, idempotency, resuming after crashes and faults."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from dfc_assets.zenodo import (
    FileJournal, MemoryJournal, PublishedRecord, ZenodoClient, ZenodoEmulator, file_md5, publish_version,
    record_file_url,
)

from .conftest import TOKEN, make_file, metadata


class Crash(BaseException):
    """Our process dying at a given step (BaseException so nothing catches it)."""


def publish(client: ZenodoClient, files: list[Path], version: str, journal, concept: str | None = None, log=None) -> PublishedRecord:
    return publish_version(
        client, dataset_id="test-table", version=version, metadata=metadata(f"Test table ({version})"),
        files=files, concept_recid=concept, journal=journal, log=log or (lambda m: None),
    )


def count(emulator: ZenodoEmulator, route: str, status: int | None = None) -> int:
    return sum(1 for r in emulator.requests if r.route == route and (status is None or r.status == status))


def published_versions(client: ZenodoClient, concept: str) -> list[dict]:
    return client.list_record_versions(concept)


def open_drafts(client: ZenodoClient) -> list[dict]:
    return [d for d in client.list_depositions() if not d["submitted"]]


def test_first_version_is_created_uploaded_and_published(client, emulator, journal, tmp_path):
    files = [make_file(tmp_path / "v1", "table.parquet", 300_000), make_file(tmp_path / "v1", "table.manifest.json", 1_000, 1)]
    record = publish(client, files, "2025-06-11", journal)

    assert record.record_id == int(record.concept_recid) + 1
    assert record.doi == f"10.5072/zenodo.{record.record_id}"
    assert record.concept_doi == f"10.5072/zenodo.{record.concept_recid}"
    assert record.doi_url == f"https://doi.org/{record.doi}"
    assert record.record_url == f"{emulator.base_url}/records/{record.record_id}"
    assert record.version == "2025-06-11"
    assert [(f.key, f.size, f.md5) for f in record.files] == [(p.name, p.stat().st_size, file_md5(p)) for p in files]
    for f, path in zip(record.files, files):
        assert f.url == record_file_url(emulator.base_url, record.record_id, path.name)
        assert httpx.get(f.url).content == path.read_bytes()
    remote = client.get_record(record.record_id)
    assert remote["metadata"]["version"] == "2025-06-11"
    assert remote["doi"] == record.doi
    assert PublishedRecord.from_dict(record.to_dict()) == record
    assert journal.load()["record"] == record.to_dict()


def test_second_version_goes_under_the_same_concept_with_its_own_doi(client, emulator, tmp_path):
    first = publish(client, [make_file(tmp_path / "v1", "table.parquet", 10_000, 1)], "2024", FileJournal(tmp_path / "j1.json"))
    second_file = make_file(tmp_path / "v2", "table-2025.parquet", 20_000, 2)
    second = publish(client, [second_file], "2025", FileJournal(tmp_path / "j2.json"), concept=first.concept_recid)

    assert second.concept_recid == first.concept_recid
    assert second.concept_doi == first.concept_doi
    assert second.doi != first.doi and second.record_id != first.record_id
    # The previous version's file was not carried over into the new version.
    assert [f.key for f in second.files] == ["table-2025.parquet"]
    assert second.files[0].md5 == file_md5(second_file)
    versions = published_versions(client, first.concept_recid)
    assert sorted(v["metadata"]["version"] for v in versions) == ["2024", "2025"]
    assert client.get_record(first.concept_recid)["id"] == second.record_id
    assert open_drafts(client) == []


def test_calling_again_after_success_creates_nothing(client, emulator, journal, tmp_path):
    files = [make_file(tmp_path, "table.parquet", 5_000)]
    first = publish(client, files, "1", journal)
    requests_before = len(emulator.requests)
    assert publish(client, files, "1", journal) == first
    assert len(emulator.requests) == requests_before  # answered from the journal
    # With the journal lost, the API finds the published version again under its concept.
    assert publish(client, files, "1", MemoryJournal(), concept=first.concept_recid) == first
    assert count(emulator, "create") == 1
    assert count(emulator, "publish") == 1
    assert count(emulator, "record_versions_create") == 0


def test_the_published_file_serves_byte_ranges(client, emulator, journal, tmp_path):
    path = make_file(tmp_path, "table.parquet", 100_000)
    record = publish(client, [path], "1", journal)
    data = path.read_bytes()
    response = httpx.get(record.files[0].url, headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.content == data[1000:2000]
    assert response.headers["content-range"] == f"bytes 1000-1999/{len(data)}"


STEPS = ["update_metadata", "upload_file", "publish_after", "list_files"]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_resumes_the_same_draft(client, emulator, journal, tmp_path, step):
    concept = publish(client, [make_file(tmp_path / "v1", "a.parquet", 4_000, 1)], "1", FileJournal(tmp_path / "j1.json")).concept_recid
    files = [make_file(tmp_path / "v2", "b.parquet", 50_000, 2), make_file(tmp_path / "v2", "b.json", 500, 3)]

    class DyingClient(ZenodoClient):
        def __getattribute__(self, name):
            attribute = super().__getattribute__(name)
            if name == step.removesuffix("_after"):
                def dying(*args, **kwargs):
                    if step.endswith("_after"):
                        attribute(*args, **kwargs)
                    raise Crash(step)
                return dying
            return attribute

    with DyingClient(emulator.base_url, TOKEN, backoff=0.01) as dying:
        with pytest.raises(Crash):
            publish(dying, files, "2", journal, concept=concept)
    record = publish(client, files, "2", journal, concept=concept)

    assert record.version == "2"
    assert record.concept_recid == concept
    assert [f.md5 for f in record.files] == [file_md5(p) for p in files]
    assert journal.load()["draft_id"] == record.record_id
    assert sorted(v["metadata"]["version"] for v in published_versions(client, concept)) == ["1", "2"]
    assert count(emulator, "record_versions_create") == 1
    assert open_drafts(client) == []


@pytest.mark.parametrize("route,status,after", [
    ("create", 500, True), ("create", 502, False), ("create", "reset", True),
    ("update", 500, False), ("update", 504, True),
    ("bucket_put", 500, False), ("bucket_put", "reset", False), ("bucket_put", 502, True),
    ("publish", 500, True), ("publish", 504, False), ("publish", "reset", True), ("publish", 429, False),
    ("files_list", 500, False), ("get", 503, False),
])
def test_faults_on_the_first_version_leave_exactly_one_published_version(client, emulator, journal, tmp_path, route, status, after):
    files = [make_file(tmp_path, "table.parquet", 30_000)]
    emulator.faults.add(route, status, after=after)
    record = publish(client, files, "2025-06-11", journal)

    depositions = client.list_depositions()
    assert [d["id"] for d in depositions] == [record.record_id]
    assert depositions[0]["state"] == "done"
    assert client.get_record(record.record_id)["doi"] == record.doi
    assert record.files[0].md5 == file_md5(files[0])
    assert count(emulator, "publish", 202) + (1 if (route, after) == ("publish", True) else 0) == 1


@pytest.mark.parametrize("route,status,after", [
    ("record_versions_create", 500, True), ("record_versions_create", "reset", False),
    ("file_delete", 500, True), ("publish", 500, True), ("record_get", 502, False),
])
def test_faults_on_a_new_version_leave_no_stray_draft(client, emulator, journal, tmp_path, route, status, after):
    concept = publish(client, [make_file(tmp_path / "v1", "a.parquet", 4_000, 1)], "1", FileJournal(tmp_path / "j1.json")).concept_recid
    # a stray copied file in the concept's draft, as a legacy newversion leaves it
    draft = client.new_version(int(client.get_record(concept)["id"]))
    assert [f["filename"] for f in draft["files"]] == ["a.parquet"]
    emulator.faults.add(route, status, after=after)
    files = [make_file(tmp_path / "v2", "b.parquet", 8_000, 2)]
    record = publish(client, files, "2", journal, concept=concept)

    assert record.record_id == draft["id"]
    assert [f.key for f in record.files] == ["b.parquet"]
    assert sorted(v["metadata"]["version"] for v in published_versions(client, concept)) == ["1", "2"]
    assert open_drafts(client) == []


def test_a_lost_journal_finds_the_draft_of_an_earlier_attempt(client, emulator, tmp_path):
    concept = publish(client, [make_file(tmp_path / "v1", "a.parquet", 4_000, 1)], "1", FileJournal(tmp_path / "j1.json")).concept_recid
    files = [make_file(tmp_path / "v2", "b.parquet", 8_000, 2)]

    class DiesAtPublish(ZenodoClient):
        def publish(self, deposition_id):
            raise Crash("publish")

    with DiesAtPublish(emulator.base_url, TOKEN, backoff=0.01) as dying, pytest.raises(Crash):
        publish(dying, files, "2", MemoryJournal(), concept=concept)
    uploads = count(emulator, "bucket_put")
    record = publish(client, files, "2", MemoryJournal(), concept=concept)
    assert count(emulator, "bucket_put") == uploads  # the earlier upload is reused, matched by md5
    assert sorted(v["metadata"]["version"] for v in published_versions(client, concept)) == ["1", "2"]
    assert record.version == "2"


def test_a_crash_before_the_first_publish_reuses_the_draft(client, emulator, journal, tmp_path):
    files = [make_file(tmp_path, "table.parquet", 8_000)]

    class DiesAtPublish(ZenodoClient):
        def publish(self, deposition_id):
            raise Crash("publish")

    with DiesAtPublish(emulator.base_url, TOKEN, backoff=0.01) as dying, pytest.raises(Crash):
        publish(dying, files, "1", journal)
    record = publish(client, files, "1", journal)
    assert count(emulator, "create") == 1
    assert [d["id"] for d in client.list_depositions()] == [record.record_id]


def test_a_corrupted_upload_is_sent_again(client, emulator, journal, tmp_path):
    files = [make_file(tmp_path, "table.parquet", 8_000)]
    emulator.faults.add("bucket_put", "corrupt")
    record = publish(client, files, "1", journal)
    assert count(emulator, "bucket_put", 201) == 2
    assert record.files[0].md5 == file_md5(files[0])


def test_progress_is_logged_and_the_token_never_is(client, emulator, journal, tmp_path):
    messages: list[str] = []
    publish(client, [make_file(tmp_path, "table.parquet", 8_000)], "1", journal, log=messages.append)
    text = "\n".join(messages)
    assert "uploaded table.parquet" in text and "MB/s" in text and "md5" in text
    assert "10.5072/zenodo." in text
    assert TOKEN not in text
    assert TOKEN not in (tmp_path / "journal.json").read_text()


def test_a_missing_community_fails_before_anything_is_created(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo import PublishError

    files = [make_file(tmp_path, "table.parquet", 1_000)]
    with pytest.raises(PublishError, match="community 'no-such-community' does not exist"):
        publish_version(client, dataset_id="test-table", version="1",
                        metadata={**metadata(), "communities": [{"identifier": "no-such-community"}]},
                        files=files, concept_recid=None, journal=journal)
    assert count(emulator, "create") == 0 and count(emulator, "bucket_put") == 0
    record = publish_version(client, dataset_id="test-table", version="1",
                             metadata={**metadata(), "communities": [{"identifier": "dataforcanada"}]},
                             files=files, concept_recid=None, journal=journal)
    assert client.get_deposition(record.record_id)["metadata"]["communities"] == [{"identifier": "dataforcanada"}]


def test_a_lost_journal_with_lagging_listings_still_resumes_a_new_version(client, emulator, tmp_path):
    concept = publish(client, [make_file(tmp_path / "v1", "a.parquet", 4_000, 1)], "1", FileJournal(tmp_path / "j1.json")).concept_recid
    emulator.index_lag = 30.0  # searches see nothing written from now on
    files = [make_file(tmp_path / "v2", "b.parquet", 8_000, 2)]

    class DiesAtPublish(ZenodoClient):
        def publish(self, deposition_id):
            raise Crash("publish")

    with DiesAtPublish(emulator.base_url, TOKEN, backoff=0.01) as dying, pytest.raises(Crash):
        publish(dying, files, "2", MemoryJournal(), concept=concept)
    record = publish(client, files, "2", MemoryJournal(), concept=concept)
    # the RDM versions endpoint is consistent: the same draft came back
    assert count(emulator, "record_versions_create", 201) == 2
    assert record.record_id == int(concept) + 2
    emulator.index_lag = 0
    assert sorted(v["metadata"]["version"] for v in published_versions(client, concept)) == ["1", "2"]
    assert open_drafts(client) == []


def test_a_published_version_is_found_again_despite_lagging_listings(client, emulator, tmp_path):
    files = [make_file(tmp_path / "v1", "a.parquet", 4_000, 1)]
    emulator.index_lag = 30.0
    first = publish(client, files, "1", FileJournal(tmp_path / "j1.json"))
    # the concept's latest version is read from the record itself, not from the lagging search
    assert publish(client, files, "1", MemoryJournal(), concept=first.concept_recid) == first
    assert count(emulator, "publish") == 1


def test_a_foreign_open_draft_of_another_version_is_not_hijacked(client, emulator, tmp_path):
    from dfc_assets.zenodo import PublishError

    concept = publish(client, [make_file(tmp_path / "v1", "a.parquet", 4_000, 1)], "1", FileJournal(tmp_path / "j1.json")).concept_recid
    draft = client.get_or_create_version_draft(int(client.get_record(concept)["id"]))
    client.update_metadata(draft["id"], {**metadata(), "version": "someone-elses"})
    with pytest.raises(PublishError, match="already has an open draft .* 'someone-elses'"):
        publish(client, [make_file(tmp_path / "v2", "b.parquet", 1_000, 2)], "2", MemoryJournal(), concept=concept)
    assert count(emulator, "bucket_put") == 1  # only version 1's upload


def test_publish_sets_version_and_a_stable_publication_date(client, emulator, journal, tmp_path):
    files = [make_file(tmp_path, "table.parquet", 1_000)]
    given = {**metadata(), "version": "ignored", "publication_date": "1999-01-01", "doi": "10.1234/not-ours"}
    record = publish_version(client, dataset_id="test-table", version="2025-06-11", metadata=given,
                             files=files, concept_recid=None, journal=journal)
    remote = client.get_deposition(record.record_id)["metadata"]
    assert remote["version"] == "2025-06-11"
    assert remote["publication_date"] == journal.load()["publication_date"] != "1999-01-01"
    assert remote["doi"] == record.doi == f"10.5072/zenodo.{record.record_id}"


def test_edit_drafts_keep_files_locked(client, emulator, journal, tmp_path):
    record = publish(client, [make_file(tmp_path, "table.parquet", 1_000)], "1", journal)
    edit = client.edit(record.record_id)
    assert edit["state"] == "inprogress"
    with pytest.raises(Exception) as raised:
        client.upload_file(edit["links"]["bucket"], make_file(tmp_path / "x", "other.parquet", 10))
    assert getattr(raised.value, "status", None) == 403


HOSTILE_TITLES = [
    'Taux de change "moyens" quotidiens',
    "Canada's daily exchange rates: l'indice des prix",
    "Données économiques — Québec, Montréal, Île-du-Prince-Édouard (ᓄᓇᕗᑦ)",
    'title:"x" AND (version:1 OR *) \\ [2020 TO 2021] ~2 ^3 && || ! {a}',
]


def open_drafts_all(client: ZenodoClient) -> list[dict]:
    return [d for d in client.list_depositions(size=100) if not d["submitted"]]


@pytest.mark.parametrize("title", HOSTILE_TITLES, ids=["double-quote", "apostrophe", "non-ascii", "lucene"])
def test_a_create_that_fails_after_creating_resumes_its_draft_whatever_the_title(client, emulator, journal, tmp_path, title):
    emulator.index_lag = 0.05  # the listing that finds the draft again lags too, as Zenodo's search does
    fault = emulator.faults.add("create", 500, after=True)
    record = publish_version(client, dataset_id="hostile", version="1", metadata=metadata(title),
                             files=[make_file(tmp_path, "t.parquet", 2_000)], concept_recid=None, journal=journal)
    emulator.index_lag = 0
    assert fault.hits == 1
    assert count(emulator, "create") == 1  # resumed, not created again
    assert [d["id"] for d in client.list_depositions()] == [record.record_id]
    assert open_drafts_all(client) == []
    published = client.get_record(record.record_id)["metadata"]
    assert published["title"] == title
    assert not [k for k in published["keywords"] if k.startswith("dfc-attempt:")]  # the nonce does not stay


@pytest.mark.parametrize("title", HOSTILE_TITLES, ids=["double-quote", "apostrophe", "non-ascii", "lucene"])
def test_a_newversion_that_fails_after_the_work_resumes_the_concepts_draft(client, emulator, tmp_path, title):
    first = publish_version(client, dataset_id="hostile", version="1", metadata=metadata(title),
                            files=[make_file(tmp_path / "v1", "t1.parquet", 2_000, 1)], concept_recid=None,
                            journal=FileJournal(tmp_path / "j1.json"))
    # no RDM versions endpoint (as on an older Zenodo): the legacy newversion, which answers 500 after the work
    emulator.faults.add("record_versions_create", 405, times=5)
    fault = emulator.faults.add("newversion", 500, after=True)
    emulator.index_lag = 0.05
    second = publish_version(client, dataset_id="hostile", version="2", metadata=metadata(title),
                             files=[make_file(tmp_path / "v2", "t2.parquet", 3_000, 2)], concept_recid=first.concept_recid,
                             journal=FileJournal(tmp_path / "j2.json"))
    emulator.index_lag = 0
    assert fault.hits == 1 and count(emulator, "newversion") == 1
    assert second.concept_recid == first.concept_recid and second.concept_doi == first.concept_doi
    assert [f.key for f in second.files] == ["t2.parquet"]  # the copied file of version 1 was removed
    assert sorted(v["metadata"]["version"] for v in published_versions(client, first.concept_recid)) == ["1", "2"]
    assert open_drafts_all(client) == []
    assert len({d["conceptrecid"] for d in client.list_depositions()}) == 1


def test_a_create_that_never_happened_is_made_once_more(client, emulator, journal, tmp_path):
    emulator.faults.add("create", 502, after=False)  # refused before any work
    record = publish(client, [make_file(tmp_path, "t.parquet", 1_000)], "1", journal)
    assert count(emulator, "create") == 2
    assert [d["id"] for d in client.list_depositions()] == [record.record_id]
    assert len(journal.load()["create_nonces"]) == 2


def test_a_journal_with_a_nonce_from_a_crashed_run_finds_its_draft(client, emulator, journal, tmp_path):
    files = [make_file(tmp_path, "t.parquet", 1_000)]

    class DiesAfterCreate(ZenodoClient):
        def create_deposition(self, metadata=None):
            super().create_deposition(metadata)
            raise Crash("after create, before the journal knew the draft id")

    with DiesAfterCreate(emulator.base_url, TOKEN, backoff=0.01) as dying, pytest.raises(Crash):
        publish(dying, files, "1", journal)
    assert "draft_id" not in journal.load() and journal.load()["create_nonces"]
    record = publish(client, files, "1", journal)
    assert count(emulator, "create") == 1
    assert [d["id"] for d in client.list_depositions()] == [record.record_id]


def test_two_drafts_carrying_our_nonces_leave_one(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo.publish import NONCE_PREFIX

    journal.save({"dataset_id": "test-table", "version": "1", "publication_date": "2025-01-01",
                  "create_nonces": ["aa", "bb"], "create_started": time.time()})
    for nonce in ("aa", "bb"):
        client.create_deposition({**metadata(), "keywords": [NONCE_PREFIX + nonce]})
    record = publish(client, [make_file(tmp_path, "t.parquet", 1_000)], "1", journal)
    assert [d["id"] for d in client.list_depositions()] == [record.record_id]
    assert count(emulator, "create") == 2


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]"])
def test_a_corrupt_or_empty_journal_is_a_clear_error_before_any_request(client, emulator, tmp_path, content):
    from dfc_assets.zenodo import PublishError

    path = tmp_path / "journal.json"
    path.write_text(content)
    with pytest.raises(PublishError, match=f"test-table 1: the Zenodo journal {path}"):
        publish(client, [make_file(tmp_path, "t.parquet", 1_000)], "1", FileJournal(path))
    assert emulator.requests == []


def test_over_50_gb_is_refused_before_any_draft(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo import PublishError

    big = tmp_path / "big.pmtiles"
    with open(big, "wb") as handle:  # sparse: no disk used, and never read
        handle.truncate(50_000_000_001)
    with pytest.raises(PublishError, match=r"test-table 2025-06-11: big.pmtiles is 50.00 GB, over Zenodo's 50 GB per record"):
        publish(client, [make_file(tmp_path, "small.parquet", 1_000), big], "2025-06-11", journal)
    assert emulator.requests == [] and journal.load() is None


def test_over_100_files_is_refused_before_any_draft(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo import PublishError

    files = [make_file(tmp_path, f"part-{n:03}.parquet", 10, n) for n in range(101)]
    with pytest.raises(PublishError, match=r"test-table 2025-06-11: 101 files, more than Zenodo's 100 files per record"):
        publish(client, files, "2025-06-11", journal)
    assert emulator.requests == [] and journal.load() is None
    assert publish(client, files[:100], "2025-06-11", journal).files[99].key == "part-099.parquet"  # 100 is allowed


def test_lowered_limits_are_checked_before_any_draft(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo import PublishError, RecordLimits

    files = [make_file(tmp_path, f"part-{n}.parquet", 600, n) for n in range(3)]
    with pytest.raises(PublishError, match=r"test-table 1: 3 files, more than Zenodo's 2 files per record"):
        publish_version(client, dataset_id="test-table", version="1", metadata=metadata(), files=files,
                        concept_recid=None, journal=journal, limits=RecordLimits(max_files=2))
    with pytest.raises(PublishError, match=r"test-table 1: its files add up to 0.00 GB, over Zenodo's 1e-06 GB"):
        publish_version(client, dataset_id="test-table", version="1", metadata=metadata(), files=files,
                        concept_recid=None, journal=journal, limits=RecordLimits(max_bytes=1_000))
    assert emulator.requests == []


def test_a_list_of_files_with_known_md5_is_published_without_hashing_again(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo import DepositFile

    paths = [make_file(tmp_path, "boundaries.parquet", 9_000, 1), make_file(tmp_path, "boundaries.pmtiles", 7_000, 2)]
    files = [DepositFile(f"dataset_v1{p.suffix}", p, p.stat().st_size, file_md5(p)) for p in paths]
    record = publish(client, files, "1", journal)
    assert [(f.key, f.md5) for f in record.files] == [(f.name, f.md5) for f in files]


def test_a_file_that_changed_since_its_md5_was_taken_is_not_published(client, emulator, journal, tmp_path):
    from dfc_assets.zenodo import DepositFile, PublishError

    path = make_file(tmp_path, "t.parquet", 4_000, 1)
    declared = DepositFile("t.parquet", path, 4_000, file_md5(path))
    path.write_bytes(b"y" * 4_000)
    with pytest.raises(PublishError, match="changed since its md5 was taken"):
        publish(client, [declared], "1", journal)
    assert count(emulator, "publish") == 0
