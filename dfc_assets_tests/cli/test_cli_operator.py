"""`dfc status`, `dfc versions`, `dfc verify` against a version published on the local services (no Dagster)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from dfc_assets.cli.main import main
from dfc_assets.cli.operator import Steps
from dfc_assets.defs.resources import USER_AGENT
from dfc_assets.publication import artifact, catalog, feeds, raw, stac_item, torrent, zenodo_record
from dfc_assets.publication.context import Publisher
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.services.static_files import file_server
from dfc_assets.settings import load_settings, zenodo_token
from dfc_assets.storage import CATALOG, TORRENT_FEED, LocalFolderStore, VersionKeys
from dfc_assets.zenodo import ZenodoClient

SPECS = list(load_registry())
BOUNDARY = next(spec for spec in SPECS if spec.key == "fixture_provinces_territories")
VERSION = "2022-02-09"


def publish(workdir: Path, version: str) -> None:
    """The publication steps the Dagster assets call, in order."""
    settings = load_settings({"DFC_SERVICES_FILE": str(workdir / SERVICES_FILE)})
    scratch = workdir / "scratch"
    scratch.mkdir(exist_ok=True)
    with httpx.Client(timeout=60, headers={"User-Agent": USER_AGENT}) as http:
        zenodo = ZenodoClient(settings.zenodo_url, zenodo_token(settings, {}), user_agent=USER_AGENT)
        publisher = Publisher(settings=settings, store=LocalFolderStore(settings.local_store_root, settings.public_base_url),
                              http=http, zenodo=zenodo, scratch=scratch)
        for step in (raw.archive_raw, artifact.build_artifact, zenodo_record.publish_zenodo, torrent.make_torrent, stac_item.write_stac_item):
            step(publisher, BOUNDARY, version)
        catalog.build_catalog(publisher, SPECS)
        feeds.build_feeds(publisher, SPECS)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("operator")
    with LocalServices(workdir) as urls:
        publish(workdir, VERSION)
        yield workdir, urls


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def corrupt_mirror(published, tmp_path, monkeypatch):
    """A community mirror of the bucket layout whose copy of the artifact has one flipped byte."""
    workdir, urls = published
    keys = VersionKeys(BOUNDARY.id, VERSION)
    copy = tmp_path / "mirror" / keys.artifact
    copy.parent.mkdir(parents=True)
    data = bytearray((Path(urls.store_root) / keys.artifact).read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    server = file_server(tmp_path / "mirror").start()
    monkeypatch.setenv("DFC_MIRROR_BASE_URLS", server.base_url)
    yield f"{server.base_url}/{keys.release_prefix}"  # the web seed, in BEP 19 directory form
    server.stop()


def test_versions_lists_the_published_version_with_its_doi(published, capsys):
    workdir, urls = published
    code, out, _ = run(capsys, "versions", BOUNDARY.key, "--workdir", str(workdir), "--json")
    assert code == 0
    listing = json.loads(out)
    (row,) = listing["versions"]
    record = json.loads((Path(urls.store_root) / VersionKeys(BOUNDARY.id, VERSION).zenodo_record).read_text())
    assert row["version"] == VERSION and row["doi"] == record["doi"] and row["state"] == "published" and row["is_latest"]
    code, out, _ = run(capsys, "versions", BOUNDARY.id, "--workdir", str(workdir))
    assert code == 0 and f"* {VERSION}  published  DOI {record['doi']}" in out


def test_versions_of_an_unknown_dataset_names_the_known_ones(published, capsys):
    workdir, _ = published
    with pytest.raises(SystemExit) as error:
        main(["versions", "no_such_dataset", "--workdir", str(workdir)])
    assert "no_such_dataset" in str(error.value) and BOUNDARY.key in str(error.value)


def test_status_shows_latest_doi_and_healthy_mirrors(published, capsys):
    workdir, _ = published
    code, out, _ = run(capsys, "status", "--workdir", str(workdir), "--json")
    statuses = {s["dataset"]: s for s in json.loads(out)["datasets"]}
    boundary = statuses[BOUNDARY.key]
    assert boundary["latest"]["version"] == VERSION and boundary["latest"]["doi"].startswith("10.5281/zenodo.")
    assert len(boundary["mirrors"]) == 2 and all(m["ok"] for m in boundary["mirrors"]), boundary["mirrors"]
    assert boundary["healthy"] is True
    assert code == 0, "nothing published elsewhere and this dataset is healthy"
    code, out, err = run(capsys, "status", "--workdir", str(workdir))
    assert f"{BOUNDARY.key}  latest {VERSION} (published)" in out and "mirrors 2/2 healthy" in out
    assert "status: [1/" in err, "plain progress lines when stderr is not a terminal"


def test_status_reports_a_mirror_serving_other_bytes(published, corrupt_mirror, capsys):
    workdir, _ = published
    code, out, _ = run(capsys, "status", "--workdir", str(workdir))
    assert code == 1
    assert "mirrors 2/3 healthy" in out and f"mirror FAILING {corrupt_mirror}" in out and "do not match the torrent" in out


def test_verify_checks_all_hashes_and_every_web_seed(published, capsys):
    workdir, _ = published
    code, out, err = run(capsys, "verify", BOUNDARY.key, VERSION, "--workdir", str(workdir), "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["passed"] is True
    assert [c["name"] for c in result["checks"]] == ["archive_matches_its_index", "artifact_matches_manifest",
                                                     "zenodo_file_matches_artifact", "web_seeds_serve_the_torrent"]
    seeds = result["checks"][3]["details"]
    assert len(seeds) == 2 and all(detail.startswith("ok") for detail in seeds.values())
    assert f"verify {BOUNDARY.key} {VERSION}: [4/4] web_seeds_serve_the_torrent" in err


def test_verify_fails_on_a_corrupt_mirror(published, corrupt_mirror, capsys):
    workdir, _ = published
    code, out, _ = run(capsys, "verify", BOUNDARY.key, VERSION, "--workdir", str(workdir))
    assert code == 1
    assert f"FAIL  mirror {corrupt_mirror}" in out and "VERIFICATION FAILED" in out
    assert "ok    artifact_matches_manifest" in out


def test_verify_fails_when_the_released_artifact_changed(published, capsys):
    workdir, urls = published
    path = Path(urls.store_root) / VersionKeys(BOUNDARY.id, VERSION).artifact
    saved = path.read_bytes()
    try:
        path.write_bytes(saved[:-1] + bytes([saved[-1] ^ 0xFF]))
        code, out, _ = run(capsys, "verify", BOUNDARY.key, VERSION, "--workdir", str(workdir))
    finally:
        path.write_bytes(saved)
    assert code == 1
    assert "FAIL  artifact_matches_manifest" in out and "FAIL  web_seeds_serve_the_torrent" in out
    assert "ok    zenodo_file_matches_artifact" in out, "Zenodo still holds the original bytes"


def test_verify_of_an_unpublished_version_says_which_exist(published, capsys):
    workdir, _ = published
    code, _, err = run(capsys, "verify", BOUNDARY.key, "2099-01-01", "--workdir", str(workdir))
    assert code == 2
    assert "2099-01-01" in err and BOUNDARY.key in err and VERSION in err


def test_steps_draw_a_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    steps = Steps(2, "verify", stream)
    steps("first")
    steps("second")
    steps.close()
    drawn = stream.getvalue()
    assert "verify" in drawn and "2/2" in drawn and "[1/2] first" not in drawn


# Issue 12.8: operators see the truth.

def archived_files(urls) -> list[Path]:
    keys = VersionKeys(BOUNDARY.id, VERSION)
    return [p for p in (Path(urls.store_root) / keys.archive_prefix).iterdir() if not p.name.endswith(".raw.json")]


def test_verify_fails_when_an_archived_file_changed(published, capsys):
    workdir, urls = published
    (path,) = archived_files(urls)
    saved = path.read_bytes()
    try:
        path.write_bytes(saved[:100] + bytes([saved[100] ^ 0xFF]) + saved[101:])
        code, out, _ = run(capsys, "verify", BOUNDARY.key, VERSION, "--workdir", str(workdir))
    finally:
        path.write_bytes(saved)
    assert code == 1
    assert "FAIL  archive_matches_its_index" in out and "does not match its sha256 index" in out and path.name in out
    assert "ok    artifact_matches_manifest" in out


def test_verify_fails_on_an_archived_file_missing_or_not_in_the_index(published, capsys):
    workdir, urls = published
    (path,) = archived_files(urls)
    stray = path.with_name("stray.zip")
    stray.write_bytes(b"not listed")
    try:
        code, out, _ = run(capsys, "verify", BOUNDARY.key, VERSION, "--workdir", str(workdir))
        assert code == 1 and "stray.zip is not in the index" in out
    finally:
        stray.unlink()
    saved = path.read_bytes()
    path.unlink()
    try:
        code, out, _ = run(capsys, "verify", BOUNDARY.key, VERSION, "--workdir", str(workdir))
        assert code == 1 and f"{path.name} is missing" in out
    finally:
        path.write_bytes(saved)


@pytest.fixture
def restore_catalog_and_feed(published):
    _, urls = published
    paths = [Path(urls.store_root) / CATALOG, Path(urls.store_root) / TORRENT_FEED]
    saved = {p: p.read_bytes() for p in paths}
    yield
    for path, data in saved.items():
        path.write_bytes(data)


def test_status_reports_a_catalog_lagging_behind_processed(published, restore_catalog_and_feed, capsys, tmp_path):
    workdir, urls = published
    code, out, _ = run(capsys, "status", "--workdir", str(workdir), "--json")
    assert code == 0 and json.loads(out)["catalog"]["ok"] is True
    store = LocalFolderStore(Path(urls.store_root), urls.store_url)
    lagging = Publisher(settings=None, store=store, http=None, zenodo=None, scratch=tmp_path)  # type: ignore[arg-type]
    catalog.build_catalog(lagging, [])  # a rebuild that saw none of the published items
    code, out, _ = run(capsys, "status", "--workdir", str(workdir))
    assert code == 1
    assert f"catalog LAGS: item {BOUNDARY.id}_{VERSION} is published under releases/ but not in {CATALOG}" in out
    assert f"catalog LAGS: processed/ serves {BOUNDARY.id} version {VERSION}, which the catalog lacks" in out
    (Path(urls.store_root) / CATALOG).unlink()
    code, out, _ = run(capsys, "status", "--workdir", str(workdir), "--json")
    assert code == 1 and any(CATALOG in p for p in json.loads(out)["catalog"]["problems"])


def test_status_reports_a_feed_lagging_behind_the_torrents(published, restore_catalog_and_feed, capsys, tmp_path):
    workdir, urls = published
    store = LocalFolderStore(Path(urls.store_root), urls.store_url)
    feeds.build_feeds(Publisher(settings=None, store=store, http=None, zenodo=None, scratch=tmp_path), [])  # type: ignore[arg-type]
    code, out, _ = run(capsys, "status", "--workdir", str(workdir))
    assert code == 1 and "feed LAGS: torrent " in out and f"is published but not in {TORRENT_FEED}" in out, out
    (Path(urls.store_root) / TORRENT_FEED).write_bytes(b"<rss><channel><item><guid>")
    code, out, _ = run(capsys, "status", "--workdir", str(workdir))
    assert code == 1 and f"catalog LAGS: {TORRENT_FEED} cannot be read" in out


@pytest.mark.parametrize("command", [["status", "--no-mirrors"], ["versions", BOUNDARY.key], ["verify", BOUNDARY.key, VERSION]])
def test_operator_commands_default_to_dot_dfc(published, capsys, tmp_path, monkeypatch, command):
    workdir, _ = published
    for name in ("DFC_SERVICES_FILE", "DFC_S3_BUCKET", "DFC_STORE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".dfc").symlink_to(workdir)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *command)
    assert code == 0, out + err
    assert VERSION in out


def test_operator_commands_without_dot_dfc_say_what_to_do(capsys, tmp_path, monkeypatch):
    for name in ("DFC_SERVICES_FILE", "DFC_S3_BUCKET", "DFC_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "status")
    assert code == 2 and ".dfc" in err and "make demo" in err


def test_the_audit_finds_a_wrong_mirror_and_reports_it_on_its_version(published, corrupt_mirror, tmp_path):
    from dfc_assets.publication.audit import WEB_SEEDS_CHECK, ZENODO_CHECK, audit_latest
    from dfc_assets.cli.operator import open_publisher

    workdir, _ = published
    with open_publisher(workdir) as publisher:
        audits = {a.dataset: a for a in audit_latest(publisher, [BOUNDARY], round_number=0)}
    audit = audits[BOUNDARY.key]
    assert audit.version == VERSION and not audit.passed
    checks = audit.by_check()
    assert checks[ZENODO_CHECK].passed
    assert not checks[WEB_SEEDS_CHECK].passed and corrupt_mirror in checks[WEB_SEEDS_CHECK].description
    assert "every piece within 1 round" in checks[WEB_SEEDS_CHECK].description


def test_a_trickling_server_does_not_stall_a_hash_check():
    import socket
    import threading

    from dfc_assets.publication.verify import DeadlineExceeded, stream_sha256

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                stop.wait(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        with httpx.Client(timeout=30) as client, pytest.raises(DeadlineExceeded, match="not read within 1 s"):
            stream_sha256(client, f"http://127.0.0.1:{listener.getsockname()[1]}/file.parquet", deadline_seconds=1)
    finally:
        stop.set()
        listener.close()
