"""Publish one dataset version on Zenodo, crash-safe and idempotent.

Steps, each safe to repeat: find or create the draft (its id goes to the journal before
anything is uploaded) -> replace its metadata with ours (``version`` and a stable
``publication_date`` included) -> reconcile its files by md5 (stale deleted, missing
uploaded, every upload's md5 checked) -> publish (a 5xx there is "maybe published":
the state is read again before any retry) -> record the result in the journal.
Identity never rests on the text of a search. Before a create, the journal receives a fresh
nonce, and the create carries it as a keyword; a create whose answer was lost is found again by
listing the newest depositions and matching that keyword exactly (the metadata PUT that follows
removes it). A new-version draft is the concept's one draft (Zenodo allows one), got again from
the idempotent RDM versions endpoint or, after a lost legacy ``newversion`` answer, by listing
and matching the concept id exactly. A published version is found by its exact ``version``
among the concept's versions. The journal is written before every call whose answer could be
lost, so it is the one place an earlier attempt is remembered.

Zenodo's limits (50 GB and 100 files per record) are checked before anything is created.
Uploads stream from disk and are hashed while they are sent: a file that changed since its md5
was taken is not published.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dfc_assets.versions import validate_version_key
from dfc_assets.zenodo.client import ZenodoClient, ZenodoError, ZenodoUncertainError, file_md5
from dfc_assets.zenodo.journal import JournalError, PublicationJournal
from dfc_assets.zenodo.record import PublishedRecord, record_file_url

__all__ = ["DepositFile", "PublishError", "PublishedRecord", "PublicationJournal", "RecordLimits", "check_record_limits",
           "publish_version", "record_file_url"]

Log = Callable[[str], None]
MANAGED_KEYS = ("doi", "prereserve_doi", "version", "publication_date")
UPLOAD_ATTEMPTS = 3
PUBLISH_ATTEMPTS = 5
LOG_EVERY_SECONDS = 5.0
NONCE_PREFIX = "dfc-attempt:"
# How long a deposition can take to appear in Zenodo's (search-backed) listing, in units of the
# client's backoff (1 s in production): a lost create is looked for this long before a new one.
LISTING_SETTLE_WAITS = (1.0, 2.0, 4.0, 8.0, 16.0, 29.0)
LISTING_CLOCK_SLACK = 600.0
LISTING_MAX_PAGES = 20


class PublishError(RuntimeError):
    """Publishing a dataset version on Zenodo cannot go on without an operator."""


@dataclass(frozen=True)
class RecordLimits:
    """Zenodo's defaults: 50 GB per record (and per file) and 100 files per record (reference §2.5)."""

    max_bytes: int = 50_000_000_000
    max_files: int = 100


@dataclass(frozen=True)
class DepositFile:
    """One file of a version: its key on Zenodo, where it is on disk, its size and md5 (hex)."""

    name: str
    path: Path
    size: int
    md5: str

    @classmethod
    def of(cls, path: Path, name: str | None = None) -> "DepositFile":
        path = Path(path)
        return cls(name or path.name, path, path.stat().st_size, file_md5(path))


LocalFile = DepositFile


class _SentMd5:
    """The md5 of the bytes an upload actually sent (started afresh when a retry sends them again)."""

    def __init__(self) -> None:
        self.digest = hashlib.md5()

    def __call__(self, chunk: bytes | None) -> None:
        if chunk is None:
            self.digest = hashlib.md5()
        else:
            self.digest.update(chunk)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def _created_at(deposition: dict) -> float | None:
    try:
        return dt.datetime.fromisoformat(str(deposition["created"])).timestamp()
    except (KeyError, ValueError):
        return None


def _is_published(deposition: dict) -> bool:
    return bool(deposition.get("submitted"))


def _version_of(deposition: dict) -> str | None:
    return deposition.get("metadata", {}).get("version")


@dataclass
class _Publication:
    client: ZenodoClient
    dataset_id: str
    version: str
    metadata: dict
    files: list[DepositFile]
    concept_recid: str | None
    journal: PublicationJournal
    log: Log
    state: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.dataset_id} {self.version}"

    # journal -----------------------------------------------------------------------------
    def load_journal(self) -> PublishedRecord | None:
        try:
            state = self.journal.load() or {}
        except JournalError as error:
            raise PublishError(f"{self.label}: {error}") from None
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
        self.save(newversion_started=self.state.get("newversion_started") or time.time())
        try:
            return self.client.new_version(record_id)
        except (ZenodoUncertainError, ZenodoError) as error:
            if not isinstance(error, ZenodoUncertainError) and not error.has_message("Please remove all files first."):
                raise
        self.log(f"{self.label}: newversion of {record_id} may have made a draft; looking for concept {concept_recid}'s draft")
        drafts = self.settled_drafts(lambda d: str(d.get("conceptrecid")) == str(concept_recid),
                                     since=float(self.state["newversion_started"]))
        if drafts:
            return drafts[0]
        raise PublishError(f"{self.label}: newversion of {record_id} failed and Zenodo lists no draft of concept "
                           f"{concept_recid} yet; run again later")

    def settled_drafts(self, mine: Callable[[dict], bool], *, since: float, settled_since: float | None = None) -> list[dict]:
        """``newest_drafts``, asked again after each of LISTING_SETTLE_WAITS until it finds one: a draft made moments
        ago may not be in Zenodo's listing yet. Asked once when the request that made it (at ``settled_since``) is
        older than all the waits together."""
        settled = settled_since is not None and time.time() - settled_since > sum(LISTING_SETTLE_WAITS) * self.client.backoff
        for wait in (0.0,) if settled else (0.0, *LISTING_SETTLE_WAITS):
            self.client.sleep(wait * self.client.backoff)
            drafts = self.newest_drafts(mine, since=since)
            if drafts:
                return drafts
        return []

    def newest_drafts(self, mine: Callable[[dict], bool], *, since: float) -> list[dict]:
        """Unpublished depositions matching ``mine``, from a listing newest first that stops before ``since``.

        No query text: the listing is of all our depositions, matched here field by field."""
        listed: list[dict] = []
        size = 100
        for page in range(1, LISTING_MAX_PAGES + 1):
            batch = self.client.list_depositions(page=page, size=size, sort="mostrecent")
            listed += [d for d in batch if not _is_published(d) and mine(d)]
            created = [c for c in map(_created_at, batch) if c is not None]
            if len(batch) < size or (created and min(created) < since - LISTING_CLOCK_SLACK):
                break
        found = []
        for candidate in sorted(listed, key=lambda d: int(d["id"])):  # the listing may show an old state: read each again
            try:
                current = self.client.get_deposition(int(candidate["id"]))
            except ZenodoError as error:
                if error.status in (404, 410):
                    continue
                raise
            if not _is_published(current) and mine(current):
                found.append(current)
        return found

    def first_version(self) -> dict:
        nonces = list(self.state.get("create_nonces") or [])
        if nonces:
            found = self.find_created(nonces)
            if found is not None:
                return found
            self.log(f"{self.label}: the create of an earlier attempt left no draft on Zenodo; creating one")
        nonce = uuid.uuid4().hex
        self.save(create_nonces=[*nonces, nonce], create_started=self.state.get("create_started") or time.time(),
                  last_create_at=time.time())
        try:
            return self.client.create_deposition(self.creation_metadata(nonce))
        except ZenodoUncertainError:
            self.log(f"{self.label}: create answered an error after it was sent; looking for its draft")
            found = self.find_created([nonce, *nonces])
            if found is not None:
                return found
        self.log(f"{self.label}: Zenodo lists no draft made by that create; creating again")
        nonce = uuid.uuid4().hex
        self.save(create_nonces=[*self.state["create_nonces"], nonce], last_create_at=time.time())
        return self.client.create_deposition(self.creation_metadata(nonce))

    def creation_metadata(self, nonce: str) -> dict:
        body = self.deposit_metadata()
        body["keywords"] = [*body.get("keywords", []), NONCE_PREFIX + nonce]
        return body

    def find_created(self, nonces: Iterable[str]) -> dict | None:
        """The draft a journaled create made, matched by its nonce keyword; extra drafts of ours are deleted."""
        marks = {NONCE_PREFIX + n for n in nonces}
        since = float(self.state.get("create_started") or time.time())
        last = float(self.state.get("last_create_at") or since)
        drafts = self.settled_drafts(lambda d: bool(marks & set(d.get("metadata", {}).get("keywords") or [])), since=since,
                                     settled_since=last)
        for extra in drafts[1:]:
            self.log(f"{self.label}: deleting draft {extra['id']}, a second draft made by a retried create")
            self.client.delete_deposition(int(extra["id"]))
        if drafts:
            self.log(f"{self.label}: found draft {drafts[0]['id']} made by an earlier create")
            return drafts[0]
        return None

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
        wanted = {f.name: f for f in self.files}
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
        expected = {f.name: f.md5 for f in self.files}
        if final != expected:
            raise PublishError(f"{self.label}: draft {draft_id} holds {final} after upload, expected {expected}; run again")

    def upload(self, bucket_url: str, local: DepositFile) -> None:
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            started = time.monotonic()
            last_report = [started]
            sent_md5 = _SentMd5()

            def progress(sent: int, total: int) -> None:
                now = time.monotonic()
                if now - last_report[0] >= LOG_EVERY_SECONDS:
                    last_report[0] = now
                    rate = sent / max(now - started, 1e-6) / 1e6
                    self.log(f"{self.label}: uploading {local.name}: {sent / 1e6:.1f}/{total / 1e6:.1f} MB ({rate:.1f} MB/s)")

            answer = self.client.upload_file(bucket_url, local.path, key=local.name, progress=progress,
                                             size=local.size, sent=sent_md5)
            elapsed = max(time.monotonic() - started, 1e-6)
            if sent_md5.hexdigest() != local.md5:
                raise PublishError(f"{self.label}: {local.path} changed since its md5 was taken ({local.md5}, now "
                                   f"{sent_md5.hexdigest()}); rebuild the version's files before publishing")
            checksum = str(answer.get("checksum", ""))
            if checksum == f"md5:{local.md5}":
                self.log(f"{self.label}: uploaded {local.name}: {local.size / 1e6:.1f} MB in {elapsed:.1f} s "
                         f"({local.size / elapsed / 1e6:.1f} MB/s), md5 {local.md5} verified")
                return
            self.log(f"{self.label}: Zenodo stored {local.name} with {checksum or 'no checksum'}, expected md5:{local.md5} "
                     f"(attempt {attempt}/{UPLOAD_ATTEMPTS}); uploading again")
        raise PublishError(f"{self.label}: {local.name} kept arriving corrupted on Zenodo after {UPLOAD_ATTEMPTS} uploads")

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
                     f"its DOI will be zenodo.{draft_id} under Zenodo's DOI prefix")
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
        expected = {f.name: f.md5 for f in self.files}
        if published != expected or record.version != self.version:
            raise PublishError(
                f"{self.label}: Zenodo record {record.record_id} holds version {record.version!r} with files {published}, "
                f"expected {expected}; inspect {record.record_url}"
            )


def check_record_limits(label: str, sizes: Sequence[tuple[str, int]], limits: RecordLimits = RecordLimits()) -> None:
    """Zenodo's per-record limits over (file name, size) pairs: call it before anything is downloaded or created."""
    if not sizes:
        raise PublishError(f"{label}: no files to publish; Zenodo requires at least one")
    if len(sizes) > limits.max_files:
        raise PublishError(f"{label}: {len(sizes)} files, more than Zenodo's {limits.max_files} files per record; "
                           "pack some of them (a zip) or split the version")
    names = [name for name, _ in sizes]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise PublishError(f"{label}: two files are named {', '.join(doubled)}; Zenodo keys must be unique")
    bad = [n for n in names if not n or "/" in n]
    if bad:
        raise PublishError(f"{label}: Zenodo file keys cannot be empty or hold '/': {bad}")
    total = sum(size for _, size in sizes)
    too_big = [(name, size) for name, size in sizes if size > limits.max_bytes]
    if too_big or total > limits.max_bytes:
        what = ", ".join(f"{n} is {s / 1e9:.2f} GB" for n, s in too_big) or f"its files add up to {total / 1e9:.2f} GB"
        raise PublishError(f"{label}: {what}, over Zenodo's {limits.max_bytes / 1e9:g} GB per record; "
                           "split the version or ask Zenodo for more quota before publishing")


def deposit_files(label: str, files: Sequence[Path | DepositFile], limits: RecordLimits = RecordLimits()) -> list[DepositFile]:
    """The version's files, checked against Zenodo's record limits before any byte is read or anything created."""
    if len(files) > limits.max_files:
        check_record_limits(label, [(str(n), 0) for n in range(len(files))], limits)
    sized: list[tuple[str, Path, int, DepositFile | None]] = []
    for entry in files:
        given = entry if isinstance(entry, DepositFile) else None
        path = Path(given.path if given else entry)  # type: ignore[arg-type]
        if not path.is_file():
            raise PublishError(f"{label}: {path} does not exist; build the version's files before publishing")
        size = path.stat().st_size
        if given is not None and given.size != size:
            raise PublishError(f"{label}: {path} is {size} bytes, its file list says {given.size}")
        sized.append((given.name if given else path.name, path, size, given))
    check_record_limits(label, [(name, size) for name, _, size, _ in sized], limits)
    return [given if given is not None else DepositFile(name, path, size, file_md5(path)) for name, path, size, given in sized]


def publish_version(
    client: ZenodoClient,
    *,
    dataset_id: str,
    version: str,
    metadata: dict,
    files: Sequence[Path | DepositFile],
    concept_recid: str | None,
    journal: PublicationJournal,
    log: Log = lambda m: None,
    limits: RecordLimits = RecordLimits(),
) -> PublishedRecord:
    """Publish ``files`` as ``version`` of ``dataset_id`` (a new concept when ``concept_recid`` is None).

    ``files`` are paths (hashed here) or ``DepositFile`` entries whose md5 is already known."""
    validate_version_key(version, dataset=dataset_id)
    label = f"{dataset_id} {version}"
    publication = _Publication(client, dataset_id, version, metadata, [], concept_recid, journal, log)
    done = publication.load_journal()
    if done is not None:
        log(f"{label}: already published as {done.doi} (journal)")
        return done
    publication.files = deposit_files(label, files, limits)
    log(f"{label}: {len(publication.files)} file(s), {sum(f.size for f in publication.files) / 1e6:.1f} MB to publish")
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
