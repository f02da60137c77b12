"""The emulator behaves like Zenodo's legacy deposit API on InvenioRDM (reference zenodo.md §2, §4, §7)."""

from __future__ import annotations

import datetime as dt
import http.client
import subprocess
import sys
import time

import httpx
import pytest

from dfc_assets.zenodo import Limits, ZenodoEmulator

from .conftest import TOKEN, metadata

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, headers=AUTH) as http:
        yield http


def base(api: httpx.Client) -> str:
    return str(api.base_url).rstrip("/")


def create(api, body=None) -> dict:
    response = api.post("/api/deposit/depositions", json={"metadata": metadata()} if body is None else body)
    assert response.status_code == 201, response.text
    return response.json()


def published(api, content: bytes = b"0123456789" * 100, key: str = "data.csv") -> dict:
    deposition = create(api)
    assert api.put(f"{deposition['links']['bucket']}/{key}", content=content).status_code == 201
    response = api.post(deposition["links"]["publish"])
    assert response.status_code == 202, response.text
    return response.json()


def test_ids_dois_states_and_links_follow_the_lifecycle(api, emulator):
    draft = create(api)
    assert int(draft["conceptrecid"]) + 1 == draft["id"] == draft["record_id"]
    assert isinstance(draft["conceptrecid"], str)
    assert (draft["state"], draft["submitted"]) == ("unsubmitted", False)
    assert "doi" not in draft and "conceptdoi" not in draft
    assert draft["metadata"]["prereserve_doi"] == {"doi": f"10.5281/zenodo.{draft['id']}", "recid": draft["id"]}
    assert draft["links"]["self"].endswith(f"/api/deposit/depositions/{draft['id']}")
    assert "registerconceptdoi" not in draft["links"]
    api.put(f"{draft['links']['bucket']}/data.csv", content=b"a,b\n1,2\n")
    done = api.post(draft["links"]["publish"]).json()
    assert (done["state"], done["submitted"]) == ("done", True)
    assert done["doi"] == done["metadata"]["doi"] == f"10.5072/zenodo.{draft['id']}"  # test DOIs by default
    assert done["conceptdoi"] == f"10.5072/zenodo.{draft['conceptrecid']}"
    assert done["links"]["self"] == f"{emulator.base_url}/api/records/{draft['id']}"
    assert done["links"]["html"] == f"{emulator.base_url}/records/{draft['id']}"
    assert done["links"]["record_html"] == f"{emulator.base_url}/record/{draft['id']}"
    assert "/draft/files/data.csv/content" in done["files"][0]["links"]["download"]
    edit = api.post(done["links"]["edit"])
    assert edit.status_code == 201 and edit.json()["state"] == "inprogress" and edit.json()["submitted"] is True


def test_writes_after_publish_answer_404_and_files_403(api):
    done = published(api)
    deposit = f"/api/deposit/depositions/{done['id']}"
    assert api.post(f"{deposit}/actions/publish").status_code == 404
    assert api.put(deposit, json={"metadata": metadata()}).status_code == 404
    assert api.delete(deposit).status_code == 404
    assert api.delete(f"{deposit}/files/{done['files'][0]['id']}").status_code == 403
    assert api.put(f"{deposit}/files", json=[]).status_code == 405
    assert api.put(f"{deposit}/files/{done['files'][0]['id']}", json={"filename": "x"}).status_code == 405


def test_delete_and_discard_answer_204_then_404(api):
    first, second = create(api), create(api)
    assert api.delete(f"/api/deposit/depositions/{first['id']}").status_code == 204
    assert api.delete(f"/api/deposit/depositions/{first['id']}").status_code == 404
    assert api.post(second["links"]["discard"]).status_code == 204
    assert api.get(f"/api/deposit/depositions/{second['id']}").status_code == 404


def test_without_a_valid_token_the_api_answers_403(emulator):
    assert httpx.get(f"{emulator.base_url}/api/deposit/depositions").status_code == 403
    wrong = httpx.post(f"{emulator.base_url}/api/deposit/depositions", json={}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["message"] == "Permission denied."
    by_query = httpx.get(f"{emulator.base_url}/api/deposit/depositions", params={"access_token": TOKEN})
    assert by_query.status_code == 200


def test_put_replaces_all_metadata_and_reapplies_defaults(api):
    draft = create(api, {"metadata": {**metadata(), "publication_date": "2020-01-01", "version": "1", "notes": "n"}})
    answer = api.put(f"/api/deposit/depositions/{draft['id']}", json={"metadata": {"title": "Only a title", "upload_type": "dataset", "unknown": 1}})
    assert answer.status_code == 200
    meta = answer.json()["metadata"]
    assert meta["title"] == "Only a title"
    assert "version" not in meta and "notes" not in meta and "creators" not in meta and "unknown" not in meta
    assert meta["publication_date"] == dt.date.today().isoformat()
    assert meta["imprint_publisher"] == "Zenodo" and meta["license"] == "cc-zero" and meta["access_right"] == "open"


def test_unknown_top_level_keys_and_bad_values_answer_400_in_the_rdm_shape(api):
    draft = create(api)
    whole = api.get(f"/api/deposit/depositions/{draft['id']}").json()
    round_trip = api.put(f"/api/deposit/depositions/{draft['id']}", json=whole)
    assert round_trip.status_code == 400
    bad_license = api.put(f"/api/deposit/depositions/{draft['id']}", json={"metadata": {**metadata(), "license": "nope-1.0"}})
    assert bad_license.status_code == 400
    assert bad_license.json()["errors"] == [{"field": "metadata.license", "messages": ["Invalid license provided: nope-1.0"]}]
    bad_relation = api.put(f"/api/deposit/depositions/{draft['id']}", json={"metadata": {
        **metadata(), "related_identifiers": [{"identifier": "x", "relation": "likes"}]}})
    assert bad_relation.json()["errors"][0]["field"] == "metadata.related_identifiers.0.relation"


def test_publish_validates_like_rdm(api):
    empty = create(api, {})
    answer = api.post(empty["links"]["publish"])
    assert answer.status_code == 400
    body = answer.json()
    assert body["message"] == "A validation error occurred."
    fields = {e["field"] for e in body["errors"]}
    assert {"metadata.title", "metadata.creators", "metadata.resource_type", "files.enabled"} <= fields
    assert all(isinstance(e["messages"], list) for e in body["errors"])


def test_newversion_returns_the_draft_with_files_and_refuses_a_repeat(api):
    done = published(api, b"version one")
    api.put(f"/api/deposit/depositions/{done['id']}", json={})  # 404, published
    first = api.post(done["links"]["newversion"])
    assert first.status_code == 201
    draft = first.json()
    assert draft["id"] != done["id"] and draft["conceptrecid"] == done["conceptrecid"]
    assert draft["state"] == "unsubmitted" and draft["conceptdoi"] == done["conceptdoi"]
    assert "publication_date" not in draft["metadata"] and "version" not in draft["metadata"]
    assert [(f["id"], f["checksum"]) for f in draft["files"]] == [(f["id"], f["checksum"]) for f in done["files"]]
    assert draft["links"]["bucket"] != done["links"]["bucket"]
    repeat = api.post(done["links"]["newversion"])
    assert repeat.status_code == 400
    assert repeat.json()["errors"] == [{"field": "files.enabled", "messages": ["Please remove all files first."]}]
    # the RDM get-or-create gives the same draft back, idempotently
    for _ in range(2):
        again = api.post(f"/api/records/{done['id']}/versions")
        assert again.status_code == 201 and again.json()["id"] == draft["id"]
    unpublished = create(api)
    assert api.post(unpublished["links"]["newversion"]).status_code == 404
    assert api.post(f"/api/records/{unpublished['id']}/versions").json()["message"] == "The persistent identifier is not registered."


def test_bucket_put_overwrites_and_lists_bare_md5(api):
    draft = create(api)
    first = api.put(f"{draft['links']['bucket']}/data.csv", content=b"first").json()
    second = api.put(f"{draft['links']['bucket']}/data.csv", content=b"second!").json()
    assert second["checksum"] == "md5:" + __import__("hashlib").md5(b"second!").hexdigest()
    assert first["version_id"] != second["version_id"]
    files = api.get(f"/api/deposit/depositions/{draft['id']}/files").json()
    assert [(f["filename"], f["filesize"], f["checksum"]) for f in files] == [("data.csv", 7, second["checksum"][4:])]


def test_chunked_uploads_are_accepted(api):
    draft = create(api)
    answer = api.put(f"{draft['links']['bucket']}/big.bin", content=iter([b"a" * 70_000, b"b" * 5]))
    assert answer.status_code == 201 and answer.json()["size"] == 70_005


def test_limits_answer_413(tmp_path):
    with ZenodoEmulator(tmp_path / "z", token=TOKEN, limits=Limits(max_file_size=1_000, quota=1_500, max_files=2)) as small, \
            httpx.Client(base_url=small.base_url, headers=AUTH) as api:
        bucket = create(api)["links"]["bucket"]
        too_big = api.put(f"{bucket}/a", content=b"x" * 1_001)
        assert too_big.status_code == 413
        assert too_big.json() == {"status": 413, "message": "The data value transmitted exceeds the capacity limit."}
        assert api.put(f"{bucket}/a", content=b"x" * 800).status_code == 201
        assert api.put(f"{bucket}/b", content=b"x" * 800).status_code == 413  # quota
        assert api.put(f"{bucket}/b", content=b"x" * 100).status_code == 201
        assert api.put(f"{bucket}/c", content=b"x").status_code == 413  # file count
        assert api.put(f"{bucket}/a", content=b"y" * 10).status_code == 201  # replacing is fine


def test_page_size_and_listing_by_concept(api):
    done = published(api)
    create(api)
    assert api.get("/api/deposit/depositions", params={"size": 101}).status_code == 400
    by_concept = api.get("/api/deposit/depositions", params={"q": f"conceptrecid:{done['conceptrecid']}", "all_versions": "true"}).json()
    assert isinstance(by_concept, list) and [d["id"] for d in by_concept] == [done["id"]]


def test_listings_lag_behind_writes(api, emulator):
    emulator.index_lag = 5.0  # longer than a loaded machine takes for the two requests that follow the write
    draft = create(api)
    assert api.get(f"/api/deposit/depositions/{draft['id']}").status_code == 200  # reads are consistent
    assert api.get("/api/deposit/depositions").json() == []
    deadline = time.monotonic() + 60
    while not (listed := [d["id"] for d in api.get("/api/deposit/depositions").json()]):
        assert time.monotonic() < deadline, "the draft never showed in the listing"
        time.sleep(0.2)
    assert listed == [draft["id"]]


def test_every_answer_carries_rate_limit_headers_and_429_past_the_limit(tmp_path):
    with ZenodoEmulator(tmp_path / "z", token=TOKEN, rate_limit=3) as limited, \
            httpx.Client(base_url=limited.base_url, headers=AUTH) as api:
        if time.time() % 60 > 40:  # the windows are fixed minutes: four requests across the end of one are all answered
            time.sleep(60 - time.time() % 60)
        answers = [api.get("/api/deposit/depositions") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "3"
        assert int(answer.headers["x-ratelimit-reset"]) > time.time() - 1
        assert 1 <= int(answer.headers["retry-after"]) <= 60
    assert answers[-1].headers["x-ratelimit-remaining"] == "0"


def test_sandbox_mints_10_5072_but_prereserve_says_10_5281(tmp_path):
    with ZenodoEmulator(tmp_path / "z", token=TOKEN, sandbox=True) as sandbox, \
            httpx.Client(base_url=sandbox.base_url, headers=AUTH) as api:
        done = published(api)
    assert done["doi"] == f"10.5072/zenodo.{done['id']}"
    assert done["metadata"]["prereserve_doi"]["doi"] == f"10.5281/zenodo.{done['id']}"


def test_production_dois_only_when_asked(tmp_path):
    with ZenodoEmulator(tmp_path / "z", token=TOKEN, sandbox=False) as production, \
            httpx.Client(base_url=production.base_url, headers=AUTH) as api:
        done = published(api)
    assert done["doi"] == f"10.5281/zenodo.{done['id']}"


def test_state_survives_a_restart(tmp_path):
    with ZenodoEmulator(tmp_path / "z", token=TOKEN) as first, httpx.Client(base_url=first.base_url, headers=AUTH) as api:
        done = published(api, b"kept bytes")
    with ZenodoEmulator(tmp_path / "z", token=TOKEN) as second, httpx.Client(base_url=second.base_url, headers=AUTH) as api:
        assert api.get(f"/api/records/{done['id']}").json()["doi"] == done["doi"]
        assert api.get(f"/records/{done['id']}/files/data.csv").content == b"kept bytes"
        assert create(api)["id"] > done["id"]



def state_through_the_api(api) -> list[dict]:
    listing = api.get("/api/deposit/depositions", params={"size": 100}).json()
    return sorted(({"id": d["id"], "state": d["state"], "doi": d.get("doi"), "files": sorted(f["filename"] for f in d["files"])}
                   for d in listing), key=lambda d: d["id"])


def test_a_restart_after_compactions_deletions_and_a_torn_last_change_gives_the_same_state(tmp_path, monkeypatch):
    from dfc_assets.zenodo.emulator import state as emulator_state

    monkeypatch.setattr(emulator_state, "COMPACT_AFTER_LINES", 5)  # state.json rewritten several times on the way
    with ZenodoEmulator(tmp_path / "z", token=TOKEN) as first, httpx.Client(base_url=first.base_url, headers=AUTH) as api:
        kept = [published(api, f"bytes {n}".encode(), key=f"t{n}.csv") for n in range(4)]
        gone = create(api)
        assert api.delete(f"/api/deposit/depositions/{gone['id']}").status_code == 204
        draft = create(api)  # an open draft with one file
        assert api.put(f"{draft['links']['bucket']}/open.csv", content=b"open").status_code == 201
        before = state_through_the_api(api)
        journal = first.state.journal_path
    assert journal.exists() and (tmp_path / "z" / "state.json").exists()  # some changes since the last compaction
    with open(journal, "a", encoding="utf-8") as torn:
        torn.write('{"next_id": 999999, "concept": ["1", nul')  # a crash in the middle of appending a change
    with ZenodoEmulator(tmp_path / "z", token=TOKEN) as second, httpx.Client(base_url=second.base_url, headers=AUTH) as api:
        assert state_through_the_api(api) == before
        assert api.get(f"/api/deposit/depositions/{gone['id']}").status_code == 404
        assert [api.get(f"/api/records/{done['id']}").json()["doi"] for done in kept] == [done["doi"] for done in kept]
        assert create(api)["id"] > draft["id"]  # the next id survived, not the torn line's


# public file URLs: the BitTorrent web seed --------------------------------------------------
@pytest.fixture
def seeded(api):
    content = bytes(range(256)) * 40
    done = published(api, content, key="table 1.parquet")
    return f"/records/{done['id']}/files/table%201.parquet", content, done


@pytest.mark.parametrize("header,first,last", [
    ("bytes=0-0", 0, 0), ("bytes=100-199", 100, 199), ("bytes=10000-", 10000, 10239),
    ("bytes=-40", 10200, 10239), ("bytes=10000-99999", 10000, 10239),
])
def test_ranges_answer_206(api, seeded, header, first, last):
    url, content, _ = seeded
    answer = httpx.get(f"{base(api)}{url}", headers={"Range": header})
    assert answer.status_code == 206
    assert answer.content == content[first:last + 1]
    assert answer.headers["content-range"] == f"bytes {first}-{last}/{len(content)}"
    assert answer.headers["content-length"] == str(last - first + 1)
    assert answer.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_ranges_answer_416(api, seeded, header):
    url, content, _ = seeded
    answer = httpx.get(f"{base(api)}{url}", headers={"Range": header})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{len(content)}"


def test_whole_file_head_and_legacy_redirect(api, seeded):
    url, content, done = seeded
    whole = httpx.get(f"{base(api)}{url}")
    assert whole.status_code == 200 and whole.content == content
    head = httpx.head(f"{base(api)}{url}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(content))
    assert "accept-ranges" not in head.headers and "etag" not in head.headers
    assert head.headers["content-disposition"] == "inline"
    legacy = httpx.get(f"{base(api)}/record/{done['id']}/files/table%201.parquet?download=1")
    assert legacy.status_code == 301
    assert legacy.headers["location"] == f"{base(api)}/records/{done['id']}/files/table%201.parquet"
    # the API content URL does not do Range (as on zenodo.org in 2026)
    no_range = httpx.get(f"{base(api)}/api/records/{done['id']}/files/table%201.parquet/content", headers={"Range": "bytes=0-9"})
    assert no_range.status_code == 200 and no_range.content == content


def test_ranges_over_one_keep_alive_connection(api, seeded):
    url, content, _ = seeded
    host, port = base(api).removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    for first in range(0, len(content), 4096):
        connection.request("GET", url, headers={"Range": f"bytes={first}-{first + 4095}"})
        answer = connection.getresponse()
        assert answer.status == 206
        assert answer.read() == content[first:first + 4096]
        assert not answer.will_close
    connection.close()


def test_unpublished_files_are_not_public(api):
    draft = create(api)
    api.put(f"{draft['links']['bucket']}/data.csv", content=b"secret")
    assert httpx.get(f"{base(api)}/records/{draft['id']}/files/data.csv").status_code == 404


# fault injection ----------------------------------------------------------------------------


def test_fault_kinds(api, emulator):
    emulator.faults.add("list", 500)
    emulator.faults.add("list", 502)
    emulator.faults.add("list", 429, retry_after=7)
    error = api.get("/api/deposit/depositions")
    assert error.status_code == 500 and len(error.json()["error_id"]) == 32
    gateway = api.get("/api/deposit/depositions")
    assert gateway.status_code == 502 and "nginx" in gateway.text
    limited = api.get("/api/deposit/depositions")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert api.get("/api/deposit/depositions").status_code == 200
    emulator.faults.add("create", "reset")
    with pytest.raises(httpx.TransportError):
        api.post("/api/deposit/depositions", json={})
    emulator.faults.add("create", 504, after=True)
    assert api.post("/api/deposit/depositions", json={}).status_code == 504
    assert len(api.get("/api/deposit/depositions").json()) == 1  # the 504 did create it
    with pytest.raises(ValueError):
        emulator.faults.add("no-such-route")


def test_command_line_prints_its_base_url_and_serves(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "dfc_assets.zenodo.emulator", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(tmp_path / "z"), "--token", TOKEN, "--sandbox"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        answer = httpx.post(f"{base_url}/api/deposit/depositions", json={}, headers=AUTH)
        assert answer.status_code == 201
    finally:
        process.terminate()
        process.wait(timeout=10)
