"""The emulator's records, drafts, buckets and file objects, persisted in a data directory.

A record is one version (one record id). It has a ``draft`` (a never-published draft, a
new-version draft or an edit draft) and/or a ``published`` state, like InvenioRDM.
Each change appends one line to ``state.journal`` (the record as it now is, its concept, the next id),
so a change costs the size of one record, not of every record (a demo of thousands of tables made the
old whole-file rewrite quadratic); once the journal holds more lines than there are records, ``state.json``
is rewritten atomically and the journal emptied. Loading reads ``state.json`` and replays the journal (a
torn last line, from a crash while appending, is left out). File bytes live in ``blobs/`` and are shared
between versions (newversion copies file ids, not bytes).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dfc_assets.zenodo.emulator.errors import NOT_REGISTERED, PERMISSION_DENIED, ApiError
from dfc_assets.zenodo.emulator.metadata import publish_errors

FIRST_RECID = 100000
OWNER_ID = 1
NEW_VERSION_SKIP_FIELDS = ("publication_date", "version", "doi")
COMPACT_AFTER_LINES = 1000  # and at least as many lines as records: rewriting state.json stays O(1) a change amortised


@dataclass(frozen=True)
class Limits:
    max_file_size: int = 50_000_000_000
    quota: int = 50_000_000_000
    max_files: int = 100
    max_page_size: int = 100


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class EmulatorState:
    def __init__(self, data_dir: Path, limits: Limits, index_lag: float = 0.0) -> None:
        self.data_dir = Path(data_dir)
        self.blob_dir = self.data_dir / "blobs"
        self.tmp_dir = self.data_dir / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp_dir.iterdir():
            leftover.unlink(missing_ok=True)
        self.path = self.data_dir / "state.json"
        self.journal_path = self.data_dir / "state.journal"
        self.limits = limits
        self.index_lag = index_lag
        self.lock = threading.RLock()
        self._history: dict[int, list[tuple[float, dict]]] = {}
        if self.path.exists():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        else:
            self.data = {"next_id": FIRST_RECID, "records": {}, "concepts": {}, "buckets": {}}
        self._journal_lines = self._replay_journal()

    # persistence -------------------------------------------------------------------------
    def _replay_journal(self) -> int:
        if not self.journal_path.exists():
            return 0
        lines = 0
        with open(self.journal_path, encoding="utf-8") as journal:
            for line in journal:
                try:
                    change = json.loads(line)
                except json.JSONDecodeError:  # a torn last line: that change never completed
                    break
                self._apply(change)
                lines += 1
        return lines

    def _apply(self, change: dict) -> None:
        records, buckets, concepts = self.data["records"], self.data["buckets"], self.data["concepts"]
        self.data["next_id"] = change["next_id"]
        concept_id, concept = change["concept"]
        if concept is None:
            concepts.pop(concept_id, None)
        else:
            concepts[concept_id] = concept
        if "record" in change:
            record = change["record"]
            records[str(record["id"])] = record
            buckets[record["bucket"]] = record["id"]
        else:
            gone = change["deleted"]
            records.pop(str(gone["id"]), None)
            buckets.pop(gone["bucket"], None)

    def _save(self, record: dict, *, deleted: bool = False) -> None:
        """Persist the change to ``record`` (or its deletion), its concept and the next id."""
        concept_id = str(record["conceptrecid"])
        change = {"next_id": self.data["next_id"], "concept": [concept_id, self.data["concepts"].get(concept_id)]}
        if deleted:
            change["deleted"] = {"id": record["id"], "bucket": record["bucket"]}
        else:
            change["record"] = record
        with open(self.journal_path, "a", encoding="utf-8") as journal:
            journal.write(json.dumps(change) + "\n")
        self._journal_lines += 1
        if self._journal_lines > max(COMPACT_AFTER_LINES, len(self.data["records"])):
            self._compact()

    def _compact(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data), encoding="utf-8")
        os.replace(tmp, self.path)
        self.journal_path.unlink(missing_ok=True)  # a crash before this replays changes state.json already has: the same state
        self._journal_lines = 0

    def _touch(self, record: dict) -> None:
        record["modified"] = now_iso()
        record["revision"] += 1
        history = self._history.setdefault(record["id"], [])
        history.append((time.monotonic(), copy.deepcopy(record)))
        del history[:-8]
        self._save(record)

    # lookups -----------------------------------------------------------------------------
    def record(self, recid: int | str) -> dict:
        record = self.data["records"].get(str(recid))
        if record is None:
            raise ApiError.not_found()
        return record

    def concept(self, conceptrecid: int | str) -> dict | None:
        return self.data["concepts"].get(str(conceptrecid))

    def published_versions(self, conceptrecid: int | str) -> list[dict]:
        versions = [
            r for r in self.data["records"].values()
            if str(r["conceptrecid"]) == str(conceptrecid) and r["published"] is not None
        ]
        return sorted(versions, key=lambda r: r["published"]["published_at"])

    def resolve_published(self, recid: int | str) -> dict:
        """A published record by its id, or the latest version by its concept id."""
        record = self.data["records"].get(str(recid))
        if record is not None:
            if record["published"] is None:
                raise ApiError.not_found()
            return record
        if self.concept(recid) is not None:
            versions = self.published_versions(recid)
            if versions:
                return versions[-1]
        raise ApiError.not_found()

    def record_by_bucket(self, bucket: str) -> dict:
        recid = self.data["buckets"].get(bucket)
        if recid is None:
            raise ApiError.not_found("The bucket does not exist.")
        return self.record(recid)

    def listing(self) -> list[dict]:
        """Records as the (eventually consistent) search index sees them."""
        records = list(self.data["records"].values())
        if self.index_lag <= 0:
            return records
        horizon = time.monotonic() - self.index_lag
        seen = []
        for record in records:
            history = self._history.get(record["id"])
            if not history:
                seen.append(record)
                continue
            visible = [snapshot for at, snapshot in history if at <= horizon]
            if visible:
                seen.append(visible[-1])
        return seen

    # ids ----------------------------------------------------------------------------------
    def _allocate(self) -> int:
        recid = self.data["next_id"]
        self.data["next_id"] = recid + 1
        return recid

    def _new_record(self, recid: int, conceptrecid: int, metadata: dict) -> dict:
        bucket = str(uuid.uuid4())
        stamp = now_iso()
        record = {
            "id": recid, "conceptrecid": conceptrecid, "owner": OWNER_ID, "created": stamp,
            "modified": stamp, "revision": 0, "bucket": bucket,
            "draft": {"metadata": metadata, "files": [], "kind": "new"}, "published": None,
        }
        self.data["records"][str(recid)] = record
        self.data["buckets"][bucket] = recid
        return record

    # deposit actions ----------------------------------------------------------------------
    def create(self, metadata: dict | None) -> dict:
        with self.lock:
            conceptrecid = self._allocate()
            recid = self._allocate()
            self.data["concepts"][str(conceptrecid)] = {"next_draft_id": recid}
            record = self._new_record(recid, conceptrecid, metadata or {})
            self._touch(record)
            return record

    def update(self, recid: int, metadata: dict | None) -> dict:
        with self.lock:
            record = self.record(recid)
            if record["draft"] is None:
                raise ApiError.not_found()
            record["draft"]["metadata"] = metadata or {}
            self._touch(record)
            return record

    def delete_draft(self, recid: int) -> None:
        """DELETE and discard: both delete the draft (and a never-published record with it)."""
        with self.lock:
            record = self.record(recid)
            if record["draft"] is None:
                raise ApiError.not_found()
            record["draft"] = None
            if record["published"] is None:
                del self.data["records"][str(recid)]
                self.data["buckets"].pop(record["bucket"], None)
                concept = self.concept(record["conceptrecid"])
                if concept is not None and concept.get("next_draft_id") == recid:
                    concept["next_draft_id"] = None
                if concept is not None and not self.published_versions(record["conceptrecid"]):
                    del self.data["concepts"][str(record["conceptrecid"])]
                self._history.pop(recid, None)
                self._save(record, deleted=True)
                self._collect_blobs()
            else:
                self._touch(record)

    def publish(self, recid: int) -> dict:
        with self.lock:
            record = self.record(recid)
            draft = record["draft"]
            if draft is None:
                raise ApiError.not_found()
            errors = publish_errors(draft["metadata"], len(draft["files"]))
            if errors:
                raise ApiError.validation(errors)
            previous = record["published"]
            record["published"] = {
                "metadata": copy.deepcopy(draft["metadata"]),
                "files": copy.deepcopy(draft["files"]),
                "published_at": previous["published_at"] if previous else now_iso(),
            }
            record["draft"] = None
            concept = self.concept(record["conceptrecid"])
            if concept is not None and concept.get("next_draft_id") == recid:
                concept["next_draft_id"] = None
            self._touch(record)
            return record

    def edit(self, recid: int) -> dict:
        with self.lock:
            record = self.record(recid)
            if record["draft"] is None:
                if record["published"] is None:
                    raise ApiError.not_found()
                record["draft"] = {
                    "metadata": copy.deepcopy(record["published"]["metadata"]),
                    "files": copy.deepcopy(record["published"]["files"]),
                    "kind": "edit",
                }
                self._touch(record)
            return record

    def next_version_draft(self, recid: int | str, *, import_files: bool) -> dict:
        """RDM new_version (get-or-create the concept's one draft), optionally with files_import."""
        with self.lock:
            base = self.data["records"].get(str(recid))
            if base is None and self.concept(recid) is None:
                raise ApiError.not_found()
            conceptrecid = base["conceptrecid"] if base else int(recid)
            versions = self.published_versions(conceptrecid)
            if not versions or (base is not None and base["published"] is None):
                raise ApiError.not_found(NOT_REGISTERED)
            latest = versions[-1]
            concept = self.concept(conceptrecid)
            draft_id = concept.get("next_draft_id")
            if draft_id is not None and str(draft_id) in self.data["records"]:
                record = self.record(draft_id)
            else:
                metadata = copy.deepcopy(latest["published"]["metadata"])
                for field in NEW_VERSION_SKIP_FIELDS:
                    metadata.pop(field, None)
                record = self._new_record(self._allocate(), conceptrecid, metadata)
                concept["next_draft_id"] = record["id"]
                self._touch(record)
            if import_files:
                if record["draft"]["files"]:
                    raise ApiError.validation([{"field": "files.enabled", "messages": ["Please remove all files first."]}])
                record["draft"]["files"] = copy.deepcopy(latest["published"]["files"])
                self._touch(record)
            return record

    # files --------------------------------------------------------------------------------
    def _writable_draft(self, record: dict) -> dict:
        draft = record["draft"]
        if draft is None:
            raise ApiError.not_found()
        if draft["kind"] == "edit":
            raise ApiError(403, PERMISSION_DENIED)
        return draft

    def check_upload(self, bucket: str, key: str, size: int | None) -> None:
        """Refuse an upload before reading its body (limits are answered with 413)."""
        with self.lock:
            record = self.record_by_bucket(bucket)
            draft = self._writable_draft(record)
            others = [f for f in draft["files"] if f["key"] != key]
            if len(others) >= self.limits.max_files:
                raise ApiError(413, f"The maximum number of files per record ({self.limits.max_files}) is reached.")
            if size is not None:
                used = sum(f["size"] for f in others)
                if size > self.limits.max_file_size or used + size > self.limits.quota:
                    raise ApiError(413, "The data value transmitted exceeds the capacity limit.")

    def receive_blob(self, stream: BinaryIO, length: int | None, chunk_size: int = 1 << 20,
                     corrupt: bool = False) -> tuple[str, int, str]:
        """Stream a body to a pending blob while computing its md5: (blob name, size, md5 hex).

        The blob stays in ``tmp/`` until ``commit_file`` moves it in under the lock."""
        name = uuid.uuid4().hex
        tmp = self.tmp_dir / name
        digest = hashlib.md5()
        size = 0
        buffer = bytearray(chunk_size)
        view = memoryview(buffer)
        readinto = getattr(stream, "readinto", None)
        try:
            with open(tmp, "wb", buffering=0) as out:
                while length is None or size < length:
                    want = chunk_size if length is None else min(chunk_size, length - size)
                    if readinto is not None:
                        got = readinto(view[:want])
                    else:
                        data = stream.read(want)
                        got = len(data)
                        view[:got] = data
                    if not got:
                        break
                    if corrupt and size == 0:
                        buffer[0] ^= 0xFF
                    digest.update(view[:got])
                    out.write(view[:got])
                    size += got
                    if size > self.limits.max_file_size:
                        break
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if length is not None and size < length:
            tmp.unlink(missing_ok=True)
            raise ConnectionError("the upload body ended early")
        if size > self.limits.max_file_size:
            tmp.unlink(missing_ok=True)
            raise ApiError(413, "The data value transmitted exceeds the capacity limit.")
        return name, size, digest.hexdigest()

    def commit_file(self, bucket: str, key: str, blob: str, size: int, md5: str, mimetype: str) -> dict:
        with self.lock:
            try:
                record = self.record_by_bucket(bucket)
                draft = self._writable_draft(record)
                others = [f for f in draft["files"] if f["key"] != key]
                if sum(f["size"] for f in others) + size > self.limits.quota:
                    raise ApiError(413, "The data value transmitted exceeds the capacity limit.")
            except ApiError:
                (self.tmp_dir / blob).unlink(missing_ok=True)
                raise
            os.replace(self.tmp_dir / blob, self.blob_dir / blob)
            stamp = now_iso()
            entry = {
                "id": str(uuid.uuid4()), "key": key, "size": size, "md5": md5, "blob": blob,
                "version_id": str(uuid.uuid4()), "mimetype": mimetype, "created": stamp, "updated": stamp,
            }
            draft["files"] = others + [entry]
            self._touch(record)
            self._collect_blobs()
            return entry

    def delete_file(self, recid: int, *, file_id: str | None = None, key: str | None = None) -> None:
        with self.lock:
            record = self.record(recid)
            if record["draft"] is None or record["draft"]["kind"] == "edit":
                raise ApiError(403, PERMISSION_DENIED)
            files = record["draft"]["files"]
            remaining = [f for f in files if f["id"] != file_id and f["key"] != key]
            if len(remaining) == len(files):
                raise ApiError.not_found("The file does not exist.")
            record["draft"]["files"] = remaining
            self._touch(record)
            self._collect_blobs()

    def blob_path(self, entry: dict) -> Path:
        return self.blob_dir / entry["blob"]

    def _collect_blobs(self) -> None:
        used = set()
        for record in self.data["records"].values():
            for state in (record["draft"], record["published"]):
                if state:
                    used.update(f["blob"] for f in state["files"])
        for blob in self.blob_dir.iterdir():
            if blob.name not in used:
                blob.unlink(missing_ok=True)
