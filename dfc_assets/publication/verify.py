"""Fixity checks of published bytes: what the asset checks call."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import httpx

from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.raw import index_key, load_archive
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage.store import file_sha256
from dfc_assets.torrent.webseeds import audit_web_seeds


@dataclass(frozen=True)
class Fixity:
    passed: bool
    description: str
    details: dict


DEFAULT_DEADLINE_SECONDS = 1800.0


class DeadlineExceeded(Exception):
    """A network check ran past its overall deadline (a server that trickles bytes)."""


def stream_sha256(client: httpx.Client, url: str, *, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> tuple[str, int]:
    """sha256 and size of what ``url`` serves, within an overall deadline whatever the server's pace."""
    digest = hashlib.sha256()
    size = 0
    started = time.monotonic()
    with client.stream("GET", url, follow_redirects=True) as response:
        # Timeouts of a read only bound the gap between two bytes; closing the response ends a trickle too.
        watchdog = threading.Timer(max(deadline_seconds - (time.monotonic() - started), 0), response.close)
        watchdog.daemon = True
        watchdog.start()
        try:
            response.raise_for_status()
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                if time.monotonic() - started > deadline_seconds:
                    break
        except (httpx.HTTPError, httpx.StreamError) as error:
            if time.monotonic() - started < deadline_seconds:
                raise
            raise DeadlineExceeded(f"{url}: not read within {deadline_seconds:g} s ({size} bytes by then)") from error
        finally:
            watchdog.cancel()
        if time.monotonic() - started > deadline_seconds:
            raise DeadlineExceeded(f"{url}: not read within {deadline_seconds:g} s ({size} bytes by then)")
    return digest.hexdigest(), size


def archive_matches_its_index(publisher: Publisher, spec: DatasetSpec, version: str) -> Fixity:
    """Every upstream file under archive/ has the size and sha256 its index records, and nothing is unlisted."""
    archive = load_archive(publisher, spec, version)
    keys = publisher.keys(spec, version)
    if archive is None:
        return Fixity(False, f"{label(spec, version)}: no archive index {index_key(publisher, spec, version)}", {})
    problems, details = [], {}
    work = publisher.work_dir(spec, version, "archive-check")
    for facts in archive.files:
        try:
            local = publisher.store.download(facts["key"], work / facts["file_name"])
        except KeyError:
            problems.append(f"{facts['key']} is missing")
            continue
        actual, size = file_sha256(local), local.stat().st_size
        details[facts["key"]] = {"expected_sha256": facts["sha256"], "actual_sha256": actual, "size": size}
        if actual != facts["sha256"] or size != int(facts["size"]):
            problems.append(f"{facts['key']} has sha256 {actual} ({size} bytes); the index records {facts['sha256']} ({facts['size']} bytes)")
        local.unlink(missing_ok=True)
    listed = {facts["key"] for facts in archive.files} | {index_key(publisher, spec, version)}
    unlisted = [info.key for info in publisher.store.list(keys.archive_prefix) if info.key not in listed]
    problems += [f"{key} is not in the index" for key in unlisted]
    if problems:
        return Fixity(False, f"{label(spec, version)}: archive/ does not match its sha256 index: " + "; ".join(problems), details)
    return Fixity(True, f"{len(archive.files)} archived file(s) match their sha256 index", details)


def artifact_matches_manifest(publisher: Publisher, spec: DatasetSpec, version: str) -> Fixity:
    artifact = load_artifact(publisher, spec, version)
    if artifact is None:
        return Fixity(False, f"{label(spec, version)}: no artifact or manifest under releases/", {})
    local = publisher.store.download(artifact.key, publisher.work_dir(spec, version, "check") / "artifact.parquet")
    actual = file_sha256(local)
    expected = artifact.output["sha256"]
    rows = int(artifact.output.get("rows", 0))
    passed = actual == expected and rows > 0
    return Fixity(passed, f"sha256 {actual} {'matches' if actual == expected else 'differs from'} the manifest; {rows} rows",
                  {"expected_sha256": expected, "actual_sha256": actual, "rows": rows})


def zenodo_file_matches_artifact(publisher: Publisher, spec: DatasetSpec, version: str, *,
                                 deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> Fixity:
    record = published_record(publisher, spec, version)
    artifact = load_artifact(publisher, spec, version)
    if record is None or artifact is None:
        return Fixity(False, f"{label(spec, version)}: not published on Zenodo yet", {})
    keys = publisher.keys(spec, version)
    zenodo_file = next((f for f in record.files if f.key == keys.artifact_name), None)
    if zenodo_file is None:
        return Fixity(False, f"Zenodo record {record.record_id} lacks {keys.artifact_name}", {})
    try:
        actual, size = stream_sha256(publisher.http, zenodo_file.url, deadline_seconds=deadline_seconds)
    except (httpx.HTTPError, DeadlineExceeded) as error:
        return Fixity(False, f"could not read {zenodo_file.url}: {error}", {"url": zenodo_file.url})
    expected = artifact.output["sha256"]
    return Fixity(actual == expected, f"Zenodo serves {size} bytes with sha256 {actual}; the artifact has {expected}",
                  {"url": zenodo_file.url, "zenodo_md5": zenodo_file.md5, "actual_sha256": actual, "expected_sha256": expected})


def web_seeds_serve_the_torrent(publisher: Publisher, spec: DatasetSpec, version: str, *, full: bool = False) -> Fixity:
    """Every web seed the published .torrent lists serves its bytes (sampled pieces, or all with ``full``)."""
    keys = publisher.keys(spec, version)
    try:
        data = publisher.store.get_bytes(keys.torrent)
    except KeyError:
        return Fixity(False, f"{label(spec, version)}: no torrent under {keys.release_prefix}", {})
    reports = audit_web_seeds(data, full=full)
    failing = [r for r in reports if not r.ok]
    details = {r.url: ("ok" if r.ok else r.reason) + f" (pieces checked {list(r.pieces_checked)}, failed {list(r.pieces_failed)})" for r in reports}
    summary = f"{len(reports) - len(failing)} of {len(reports)} web seeds serve the torrent's pieces"
    if failing:
        summary += "; failing: " + "; ".join(f"{r.url}: {r.reason}" for r in failing)
    return Fixity(not failing and bool(reports), summary, details)
