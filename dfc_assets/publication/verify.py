"""Fixity checks of published bytes: what the asset checks call."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx

from dfc_assets.publication.artifact import load_artifact
from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.zenodo_record import published_record
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage.store import file_sha256
from dfc_assets.torrent.webseeds import audit_web_seeds


@dataclass(frozen=True)
class Fixity:
    passed: bool
    description: str
    details: dict


def stream_sha256(client: httpx.Client, url: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", url, follow_redirects=True) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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


def zenodo_file_matches_artifact(publisher: Publisher, spec: DatasetSpec, version: str) -> Fixity:
    record = published_record(publisher, spec, version)
    artifact = load_artifact(publisher, spec, version)
    if record is None or artifact is None:
        return Fixity(False, f"{label(spec, version)}: not published on Zenodo yet", {})
    keys = publisher.keys(spec, version)
    zenodo_file = next((f for f in record.files if f.key == keys.artifact_name), None)
    if zenodo_file is None:
        return Fixity(False, f"Zenodo record {record.record_id} lacks {keys.artifact_name}", {})
    try:
        actual, size = stream_sha256(publisher.http, zenodo_file.url)
    except httpx.HTTPError as error:
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
