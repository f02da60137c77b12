"""Contract: the emulator answers the same calls with the same shapes as the recorded real Zenodo responses.

Samples: dfc_assets_tests/samples/zenodo (copied from the shared samples; see its README). Redactions tolerated: timestamps
rewritten to 2022-01-01, the base URL rewritten to ``sbapi/``, bucket ids rewritten to ``hash``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from .conftest import TOKEN

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "zenodo"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")
# Headers of the real service that belong to its web front (cookies, CSP, HSTS over TLS), not to the API contract.
FRONT_HEADERS = {"set-cookie", "content-security-policy", "strict-transport-security", "date", "server",
                 "content-length", "permissions-policy", "x-frame-options", "x-xss-protection", "referrer-policy"}



def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def assert_same_shape(real, ours, path: str = "body", *, tolerate: set[str] = frozenset()) -> None:
    """Same keys (except ``tolerate`` paths) and the same JSON types, recursively; a real null allows any type."""
    if real is None:
        return
    assert type(ours) is type(real) or (isinstance(real, (int, float)) and isinstance(ours, (int, float))), \
        f"{path}: real {type(real).__name__}, ours {type(ours).__name__}"
    if isinstance(real, dict):
        missing = {k for k in real if k not in ours and f"{path}.{k}" not in tolerate}
        extra = {k for k in ours if k not in real and f"{path}.{k}" not in tolerate}
        assert not missing, f"{path}: keys missing in the emulator: {sorted(missing)}"
        assert not extra, f"{path}: keys the real service does not send: {sorted(extra)}"
        for key in real:
            if key in ours:
                assert_same_shape(real[key], ours[key], f"{path}.{key}", tolerate=tolerate)
    elif isinstance(real, list) and real and ours:
        for item in ours:
            assert_same_shape(real[0], item, f"{path}[]", tolerate=tolerate)


def link_shape(url: str, base: str) -> str:
    """A link with the host, ids and bucket uuids abstracted (``sbapi/`` is the redacted ``{base}/api/``)."""
    url = url.replace(f"{base}/api/", "API/").replace("sbapi/", "API/")
    url = re.sub(r"https?://[^/]+/", "SITE/", url)
    url = re.sub(UUID, "UUID", url).replace("/files/hash", "/files/UUID")
    return re.sub(r"\d{3,}", "ID", url)


def assert_same_links(real: dict, ours: dict, base: str) -> None:
    assert set(real) == set(ours), f"links differ: real-only {set(real) - set(ours)}, ours-only {set(ours) - set(real)}"
    for key in real:
        assert link_shape(ours[key], base) == link_shape(real[key], base), key


@pytest.fixture
def api(emulator):
    with httpx.Client(base_url=emulator.base_url, headers=AUTH) as http:
        yield http


def request_metadata(response_metadata: dict) -> dict:
    return {k: v for k, v in response_metadata.items() if k not in ("prereserve_doi", "doi", "imprint_publisher")}


def test_create_deposition_matches_sandbox_2025_12(api, emulator):
    real = sample("sandbox-2025-12_create-deposition_POST.json")
    answer = api.post("/api/deposit/depositions", json={"metadata": request_metadata(real["body"]["metadata"])})
    assert answer.status_code == real["_status"] == 201
    ours = answer.json()
    assert_same_shape(real["body"], ours)
    assert_same_links(real["body"]["links"], ours["links"], emulator.base_url)
    assert ours["metadata"]["creators"] == real["body"]["metadata"]["creators"]  # affiliation: null added
    assert ours["metadata"]["imprint_publisher"] == "Zenodo"
    assert ours["metadata"]["prereserve_doi"] == {"doi": f"10.5281/zenodo.{ours['id']}", "recid": ours["id"]}
    assert int(ours["conceptrecid"]) + 1 == ours["id"]
    assert ISO.match(ours["created"]) and ISO.match(ours["modified"])
    real_headers = {name for name, _ in real["_headers"]} - FRONT_HEADERS
    assert real_headers <= set(answer.headers.keys()), real_headers - set(answer.headers.keys())
    assert re.fullmatch(r'"\d+"', answer.headers["etag"])
    assert answer.headers["access-control-expose-headers"] == dict(real["_headers"])["access-control-expose-headers"]


def test_create_drift_since_2024_02_is_followed(api, emulator):
    old = sample("sandbox-2024-02_create-deposition_POST.json")["body"]
    ours = api.post("/api/deposit/depositions", json={"metadata": request_metadata(old["metadata"])}).json()
    assert set(ours["links"]) == set(old["links"]) - {"registerconceptdoi"}
    assert_same_shape(old, ours, tolerate={"body.links.registerconceptdoi"})


def test_empty_create_matches_the_documented_answer_with_the_rdm_defaults(api):
    """The documented answer (2020, before InvenioRDM) has no defaults; the RDM layer applies them on every load."""
    body = sample("docs-quickstart_create-deposition_POST.json")["body"]
    ours = api.post("/api/deposit/depositions", json={}).json()
    assert set(body) == set(ours)
    assert set(body["metadata"]) <= set(ours["metadata"])
    assert ours["title"] == body["title"] == ""
    assert set(body["links"]) <= set(ours["links"])
    metadata = ours["metadata"]
    assert (metadata["access_right"], metadata["license"], metadata["imprint_publisher"]) == ("open", "cc-by-4.0", "Zenodo")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", metadata["publication_date"])
    without_body = api.post("/api/deposit/depositions").json()["metadata"]
    assert {k: v for k, v in without_body.items() if k != "prereserve_doi"} == {
        k: v for k, v in metadata.items() if k != "prereserve_doi"}


def test_a_dataset_create_gets_the_defaults_the_sandbox_filled_in(api):
    """dfc-domain §6: a create of {publication_date, upload_type dataset, title, creators} came back with cc-zero."""
    ours = api.post("/api/deposit/depositions", json={"metadata": {
        "publication_date": "2025-07-14", "upload_type": "dataset", "title": "t", "creators": [{"name": "A"}]}}).json()
    assert (ours["metadata"]["license"], ours["metadata"]["imprint_publisher"]) == ("cc-zero", "Zenodo")


def test_bucket_upload_matches_sandbox_2025_12(api, emulator):
    real = sample("sandbox-2025-12_bucket-upload_PUT.json")
    bucket = api.post("/api/deposit/depositions", json={}).json()["links"]["bucket"]
    content = b"x" * real["body"]["size"]
    answer = api.put(f"{bucket}/data.csv", content=content)
    assert answer.status_code == real["_status"] == 201
    ours = answer.json()
    assert_same_shape(real["body"], ours)
    assert ours["mimetype"] == real["body"]["mimetype"] == "text/csv"
    assert re.fullmatch(r"md5:[0-9a-f]{32}", ours["checksum"]) and re.fullmatch(r"md5:[0-9a-f]{32}", real["body"]["checksum"])
    for key in ("self", "version", "uploads"):
        assert link_shape(ours["links"][key], emulator.base_url) == link_shape(real["body"]["links"][key], emulator.base_url)
    real_headers = {name for name, _ in real["_headers"]} - FRONT_HEADERS
    assert real_headers <= set(answer.headers.keys())


def test_draft_with_files_matches_sandbox_2025_12(api, emulator):
    real = sample("sandbox-2025-12_get-draft-with-files_GET.json")["body"]
    created = api.post("/api/deposit/depositions", json={"metadata": request_metadata(real["metadata"])}).json()
    for entry in real["files"]:
        api.put(f"{created['links']['bucket']}/{entry['filename']}", content=b"y" * entry["filesize"])
    ours = api.get(f"/api/deposit/depositions/{created['id']}").json()
    # That recorded draft shows a reserved DOI (doi, doi_url, links.doi, a DOI badge); plain drafts do not.
    tolerated = {"body.doi", "body.doi_url", "body.metadata.doi", "body.links.doi"}
    assert_same_shape(real, ours, tolerate=tolerated)
    assert {e["filename"] for e in ours["files"]} == {e["filename"] for e in real["files"]}
    for entry in ours["files"]:
        assert re.fullmatch(r"[0-9a-f]{32}", entry["checksum"])  # bare md5 in deposition file lists
        assert re.fullmatch(UUID, entry["id"])
        assert link_shape(entry["links"]["download"], emulator.base_url) == link_shape(real["files"][0]["links"]["download"], emulator.base_url).replace("data2.csv", entry["filename"])
        assert entry["links"]["self"].endswith(f"/api/deposit/depositions/{ours['id']}/files/{entry['id']}")


def test_metadata_update_matches_sandbox_2025_12(api, emulator):
    real = sample("sandbox-2025-12_update-metadata_PUT.json")["body"]
    create_body = sample("sandbox-2025-12_create-deposition_POST.json")["body"]
    created = api.post("/api/deposit/depositions", json={"metadata": request_metadata(create_body["metadata"])}).json()
    answer = api.put(f"/api/deposit/depositions/{created['id']}", json={"metadata": request_metadata(real["metadata"])})
    assert answer.status_code == 200
    ours = answer.json()
    assert_same_shape(real, ours)
    assert set(ours["metadata"]) == set(real["metadata"])  # "notes" from the create is gone: full replacement
    assert_same_links(real["links"], ours["links"], emulator.base_url)


ERRORS = sample("observed-errors-and-headers.json") if SAMPLES.exists() else {}


def published(api, content=b"z" * 1000, key="articles_by_influence.csv") -> dict:
    created = api.post("/api/deposit/depositions", json={"metadata": {
        "title": "t", "upload_type": "dataset", "creators": [{"name": "A"}]}}).json()
    api.put(f"{created['links']['bucket']}/{key}", content=content)
    return api.post(created["links"]["publish"]).json()


def test_error_bodies_match_the_observed_ones(api, emulator):
    done = published(api)
    api.post(done["links"]["newversion"])
    repeat = api.post(done["links"]["newversion"])
    expected = ERRORS["newversion_when_a_newversion_draft_already_has_files_400"]
    assert (repeat.status_code, repeat.json()) == (expected["status"], expected["body"])

    unknown = api.get("/api/records/999999999")
    expected = ERRORS["unknown_record_404"]
    assert (unknown.status_code, unknown.json()) == (expected["status"], expected["body"])

    draft_only = api.post("/api/deposit/depositions", json={}).json()
    versions = api.post(f"/api/records/{draft_only['id']}/versions")
    expected = ERRORS["versions_on_unpublished_draft_404"]
    assert (versions.status_code, versions.json()["message"]) == (expected["status"], expected["body_message"])

    emulator.faults.add("record_versions_create", 500)
    crashed = api.post(f"/api/records/{done['id']}/versions").json()
    assert set(crashed) == set(ERRORS["newversion_internal_error_500_with_error_id"]["body"])
    assert crashed["message"] == ERRORS["versions_internal_error_500"]["body"]["message"]


def test_413_matches_the_observed_one(tmp_path):
    from dfc_assets.zenodo import Limits, ZenodoEmulator

    expected = ERRORS["bucket_upload_too_large_413"]
    with ZenodoEmulator(tmp_path / "z", token=TOKEN, limits=Limits(max_file_size=10)) as small, \
            httpx.Client(base_url=small.base_url, headers=AUTH) as api:
        bucket = api.post("/api/deposit/depositions", json={}).json()["links"]["bucket"]
        answer = api.put(f"{bucket}/big", content=b"x" * 11)
    assert (answer.status_code, answer.json()) == (expected["status"], expected["body"])
    assert {name for name, _ in expected["headers_partial"]} - FRONT_HEADERS <= set(answer.headers.keys())


def test_download_headers_match_the_observed_ones(api, emulator):
    done = published(api, bytes(range(256)) * 4)
    url = f"{emulator.base_url}/records/{done['id']}/files/articles_by_influence.csv"
    head = httpx.head(url)
    real_head = {name.lower() for name, _ in ERRORS["head_public_file_rdm_2023_11"]["headers_partial"]}
    assert real_head - FRONT_HEADERS - {"x-download-options", "x-permitted-cross-domain-policies"} <= set(head.headers.keys())
    assert "accept-ranges" not in head.headers and "etag" not in head.headers

    ranged = httpx.get(url, headers={"Range": "bytes=-180"})
    real_206 = dict((name.lower(), value) for name, value in ERRORS["range_get_public_file_preRDM_2023_03"]["headers_partial"])
    assert ranged.status_code == 206
    assert re.fullmatch(r"bytes \d+-\d+/\d+", ranged.headers["content-range"]) and re.fullmatch(r"bytes \d+-\d+/\d+", real_206["content-range"])
    assert ranged.headers["content-range"] == "bytes 844-1023/1024" and ranged.headers["content-length"] == "180"
    assert re.fullmatch(r'"md5:[0-9a-f]{32}"', ranged.headers["etag"]) and re.fullmatch(r'"md5:[0-9a-f]{32}"', real_206["etag"])

    legacy = httpx.get(f"{emulator.base_url}/record/{done['id']}/files/articles_by_influence.csv")
    assert legacy.status_code == ERRORS["legacy_record_url_redirect_2023_11"]["status"] == 301
    assert httpx.get(legacy.headers["location"]).status_code == 200
