"""Publish one dataset version on Zenodo, crash-safe and idempotent.

Steps, each safe to repeat: find or create the draft (its id goes to the journal before
anything is uploaded) -> replace its metadata with ours (``version`` and a stable
``publication_date`` included) -> reconcile its files by md5 (stale deleted, missing
uploaded, every upload's md5 checked) -> publish (a 5xx there is "maybe published":
the state is read again before any retry) -> record the result in the journal.
Without a journal entry the draft or published version is found again through the API.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dfc_assets.versions import validate_version_key
from dfc_assets.zenodo.client import ZenodoClient, ZenodoError, ZenodoUncertainError, file_md5
from dfc_assets.zenodo.journal import PublicationJournal
from dfc_assets.zenodo.record import PublishedRecord, record_file_url

__all__ = ["PublishError", "PublishedRecord", "PublicationJournal", "publish_version", "record_file_url"]

Log = Callable[[str], None]
MANAGED_KEYS = ("doi", "prereserve_doi", "version", "publication_date")
UPLOAD_ATTEMPTS = 3
PUBLISH_ATTEMPTS = 5
LOG_EVERY_SECONDS = 5.0


class PublishError(RuntimeError):
    """Publishing a dataset version on Zenodo cannot go on without an operator."""


@dataclass(frozen=True)
class LocalFile:
    path: Path
    key: str
    size: int
    md5: str


def _is_published(deposition: dict) -> bool:
    return bool(deposition.get("submitted"))


def _version_of(deposition: dict) -> str | None:
    return deposition.get("metadata", {}).get("version")


class _Publication:
    def __init__(self, client: ZenodoClient, dataset_id: str, version: str, metadata: dict,
                 files: list[LocalFile], concept_recid: str | None, journal: PublicationJournal, log: Log) -> None:
        self.client = client
        self.dataset_id = dataset_id
        self.version = version
        self.metadata = metadata
        self.files = files
        self.concept_recid = concept_recid
        self.journal = journal
        self.log = log
        self.label = f"{dataset_id} {version}"
        self.state: dict = {}

    # journal -----------------------------------------------------------------------------
    def load_journal(self) -> PublishedRecord | None:
        state = self.journal.load() or {}
        if state and (state.get("dataset_id"), state.get("version")) != (self.dataset_id, self.version):
            raise PublishError(
                f"{self.label}: the Zenodo journal belongs to {state.get('dataset_id')} {state.get('version')}; "
                "give each dataset version its own journal"
            )
        self.state = state
        if state.get("record"):
            return PublishedRecord.from_dict(state["record"])
        state.update(dataset_id=self.dataset_id, version=self.version)
        state.setdefault("publication_date", dt.date.today().isoformat())
        return None

    def save(self, **changes: object) -> None:
        self.state.update(changes)
        self.journal.save(dict(self.state))

    def deposit_metadata(self) -> dict:
        body = {k: v for k, v in self.metadata.items() if k not in MANAGED_KEYS}
        body["version"] = self.version
        body["publication_date"] = self.state["publication_date"]
        return body

    # finding the draft --------------------------------------------------------------------
    def journaled_deposition(self) -> dict | None:
        draft_id = self.state.get("draft_id")
        if draft_id is None:
            return None
        try:
            deposition = self.client.get_deposition(int(draft_id))
        except ZenodoError as error:
            if error.status in (404, 410):
                self.log(f"{self.label}: draft {draft_id} from the journal is gone on Zenodo; looking again")
                return None
            raise
        if _is_published(deposition) and _version_of(deposition) != self.version:
            raise PublishError(
                f"{self.label}: journaled record {draft_id} was published as version {_version_of(deposition)!r}; "
                "inspect it on Zenodo and remove the journal entry if it is not this version"
            )
        return deposition

    def existing_version(self, concept_recid: str) -> tuple[dict | None, dict]:
        """(our published deposition if this version exists, the latest published record)."""
        try:
            latest = self.client.get_record(concept_recid)
        except ZenodoError as error:
            if error.status in (404, 410):
                raise PublishError(
                    f"{self.label}: Zenodo has no published record for concept {concept_recid}; "
                    "check the concept record id stored for this dataset"
                ) from error
            raise
        candidates = [latest] + self.client.list_record_versions(latest["id"])
        for record in candidates:
            if record.get("metadata", {}).get("version") == self.version:
                return self.client.get_deposition(int(record["id"])), latest
        return None, latest

    def version_draft(self, concept_recid: str) -> dict:
        published, latest = self.existing_version(concept_recid)
        if published is not None:
            return published
        try:
            draft = self.client.get_or_create_version_draft(int(latest["id"]))
        except ZenodoError as error:
            if error.status not in (404, 405):
                raise
            draft = self.legacy_new_version(int(latest["id"]), concept_recid)
        other = _version_of(draft)
        if other not in (None, "", self.version):
            raise PublishError(
                f"{self.label}: concept {concept_recid} already has an open draft {draft['id']} for version {other!r}; "
                "publish or discard it on Zenodo first (Zenodo allows one new-version draft per concept)"
            )
        return draft

    def legacy_new_version(self, record_id: int, concept_recid: str) -> dict:
        try:
            return self.client.new_version(record_id)
        except (ZenodoUncertainError, ZenodoError) as error:
            if not isinstance(error, ZenodoUncertainError) and not error.has_message("Please remove all files first."):
                raise
        drafts = [d for d in self.client.search_depositions(f"conceptrecid:{concept_recid}") if not _is_published(d)]
        if not drafts:
            raise PublishError(f"{self.label}: newversion of {record_id} failed and no draft is listed yet; run again later")
        return drafts[0]

    def first_version(self) -> dict:
        title = self.metadata.get("title", "")
        found = self.find_unjournaled(title)
        if found is not None:
            return found
        try:
            return self.client.create_deposition(self.deposit_metadata())
        except ZenodoUncertainError:
            self.log(f"{self.label}: create answered an error after it was sent; checking whether the draft exists")
            for wait in (1.0, 2.0, 4.0):
                self.client.sleep(wait * self.client.backoff)
                found = self.find_unjournaled(title)
                if found is not None:
                    return found
            return self.client.create_deposition(self.deposit_metadata())

    def find_unjournaled(self, title: str) -> dict | None:
        """A deposition of this version made by an earlier attempt whose journal entry was lost."""
        if not title:
            return None
        matches = [
            d for d in self.client.search_depositions(f'title:"{title}"')
            if d.get("metadata", {}).get("title") == title and _version_of(d) == self.version
        ]
        matches.sort(key=lambda d: (not _is_published(d), d["id"]))
        return matches[0] if matches else None

    def find_deposition(self) -> dict:
        deposition = self.journaled_deposition()
        if deposition is not None:
            return deposition
        if self.concept_recid:
            return self.version_draft(str(self.concept_recid))
        return self.first_version()

    # files --------------------------------------------------------------------------------
    def reconcile_files(self, deposition: dict) -> None:
        draft_id = int(deposition["id"])
        wanted = {f.key: f for f in self.files}
        remote = {f["filename"]: f for f in self.client.list_files(draft_id)}
        for key, entry in remote.items():
            if key not in wanted:
                self.log(f"{self.label}: removing {key} from draft {draft_id} (not part of this version)")
                self.client.delete_file(draft_id, entry["id"])
        for key, local in wanted.items():
            entry = remote.get(key)
            if entry is not None and entry["checksum"].removeprefix("md5:") == local.md5 and int(entry["filesize"]) == local.size:
                self.log(f"{self.label}: {key} already in draft {draft_id} with md5 {local.md5}")
                continue
            self.upload(deposition["links"]["bucket"], local)
        final = {f["filename"]: f["checksum"].removeprefix("md5:") for f in self.client.list_files(draft_id)}
        expected = {f.key: f.md5 for f in self.files}
        if final != expected:
            raise PublishError(f"{self.label}: draft {draft_id} holds {final} after upload, expected {expected}; run again")

    def upload(self, bucket_url: str, local: LocalFile) -> None:
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            started = time.monotonic()
            last_report = [started]

            def progress(sent: int, total: int) -> None:
                now = time.monotonic()
                if now - last_report[0] >= LOG_EVERY_SECONDS:
                    last_report[0] = now
                    rate = sent / max(now - started, 1e-6) / 1e6
                    self.log(f"{self.label}: uploading {local.key}: {sent / 1e6:.1f}/{total / 1e6:.1f} MB ({rate:.1f} MB/s)")

            answer = self.client.upload_file(bucket_url, local.path, key=local.key, progress=progress)
            elapsed = max(time.monotonic() - started, 1e-6)
            checksum = str(answer.get("checksum", ""))
            if checksum == f"md5:{local.md5}":
                self.log(f"{self.label}: uploaded {local.key}: {local.size / 1e6:.1f} MB in {elapsed:.1f} s "
                         f"({local.size / elapsed / 1e6:.1f} MB/s), md5 {local.md5} verified")
                return
            self.log(f"{self.label}: Zenodo stored {local.key} with {checksum or 'no checksum'}, expected md5:{local.md5} "
                     f"(attempt {attempt}/{UPLOAD_ATTEMPTS}); uploading again")
        raise PublishError(f"{self.label}: {local.key} kept arriving corrupted on Zenodo after {UPLOAD_ATTEMPTS} uploads")

    # publishing ---------------------------------------------------------------------------
    def publish(self, draft_id: int) -> dict:
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            try:
                return self.client.publish(draft_id)
            except ZenodoUncertainError as error:
                self.log(f"{self.label}: publish of {draft_id} may have happened ({error}); reading its state")
            except ZenodoError as error:
                if error.status != 404:
                    raise PublishError(f"{self.label}: Zenodo refused to publish draft {draft_id}: {error}") from error
            deposition = self.client.get_deposition(draft_id)
            if _is_published(deposition):
                return deposition
            self.client.sleep(min(30.0, self.client.backoff * 2 ** attempt))
        raise PublishError(f"{self.label}: draft {draft_id} is still unpublished after {PUBLISH_ATTEMPTS} attempts; run again later")

    def run(self) -> PublishedRecord:
        deposition = self.find_deposition()
        self.save(draft_id=int(deposition["id"]), concept_recid=str(deposition["conceptrecid"]))
        draft_id = int(deposition["id"])
        if not _is_published(deposition):
            self.log(f"{self.label}: using draft {draft_id} (concept {deposition['conceptrecid']}); "
                     f"its DOI will be {deposition['metadata']['prereserve_doi']['doi']}")
            deposition = self.client.update_metadata(draft_id, self.deposit_metadata())
            self.reconcile_files(deposition)
            self.save(phase="publishing")
            deposition = self.publish(draft_id)
        record = PublishedRecord.from_deposition(self.client.base_url, deposition)
        self.check(record)
        self.save(phase="published", record=record.to_dict())
        self.log(f"{self.label}: published {record.doi} (concept {record.concept_doi}) at {record.record_url}")
        return record

    def check(self, record: PublishedRecord) -> None:
        published = {f.key: f.md5 for f in record.files}
        expected = {f.key: f.md5 for f in self.files}
        if published != expected or record.version != self.version:
            raise PublishError(
                f"{self.label}: Zenodo record {record.record_id} holds version {record.version!r} with files {published}, "
                f"expected {expected}; inspect {record.record_url}"
            )


def _local_files(label: str, files: Sequence[Path], log: Log) -> list[LocalFile]:
    seen: set[str] = set()
    local = []
    for path in map(Path, files):
        if not path.is_file():
            raise PublishError(f"{label}: {path} does not exist; build the artifact before publishing")
        if path.name in seen:
            raise PublishError(f"{label}: two files are named {path.name}; Zenodo keys must be unique")
        seen.add(path.name)
        local.append(LocalFile(path, path.name, path.stat().st_size, file_md5(path)))
    if not local:
        raise PublishError(f"{label}: no files to publish; Zenodo requires at least one")
    log(f"{label}: {len(local)} file(s), {sum(f.size for f in local) / 1e6:.1f} MB to publish")
    return local


def publish_version(
    client: ZenodoClient,
    *,
    dataset_id: str,
    version: str,
    metadata: dict,
    files: Sequence[Path],
    concept_recid: str | None,
    journal: PublicationJournal,
    log: Log = lambda m: None,
) -> PublishedRecord:
    """Publish ``files`` as ``version`` of ``dataset_id`` (a new concept when ``concept_recid`` is None)."""
    validate_version_key(version, dataset=dataset_id)
    label = f"{dataset_id} {version}"
    publication = _Publication(client, dataset_id, version, metadata, [], concept_recid, journal, log)
    done = publication.load_journal()
    if done is not None:
        log(f"{label}: already published as {done.doi} (journal)")
        return done
    publication.files = _local_files(label, files, log)
    _check_communities(client, label, metadata)
    return publication.run()


def _check_communities(client: ZenodoClient, label: str, metadata: dict) -> None:
    """Zenodo swallows community inclusion errors at publish time, so check them before anything is created."""
    for community in metadata.get("communities") or []:
        identifier = community.get("identifier") if isinstance(community, dict) else None
        if not identifier or not client.community_exists(identifier):
            raise PublishError(
                f"{label}: Zenodo community {identifier!r} does not exist at {client.base_url}; "
                "create it (or fix the dataset's community) before publishing"
            )
