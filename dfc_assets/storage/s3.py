"""Any S3 API (R2, Tigris, AWS, moto) as the object store.

The boto3 client comes from the caller (dagster-aws's S3Resource in the Dagster layer),
so credentials never pass through this module. S3 makes a PUT visible only when it
completes, so a final key never holds a partial object.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from dfc_assets.storage.store import ObjectExists, ObjectInfo, content_type_for, file_sha256


MULTIPART_PART_SIZE = 64 << 20
MAX_PARTS = 10_000  # S3's limit; parts grow for files over 625 GiB
UPLOAD_THREADS = 4


def transfer_config(size: int) -> TransferConfig:
    """Parts of 64 MiB (bigger past 10,000 parts); at most UPLOAD_THREADS parts in flight, read from disk as sent."""
    part = max(MULTIPART_PART_SIZE, -(-size // MAX_PARTS))
    part = -(-part // (1 << 20)) << 20
    return TransferConfig(multipart_threshold=MULTIPART_PART_SIZE, multipart_chunksize=part, max_concurrency=UPLOAD_THREADS)


def window_part_size(size: int) -> int:
    """Parts for an upload written window by window: a power of two >= 16 MiB, within S3's 10,000 parts."""
    part = 16 << 20
    while part * MAX_PARTS < size:
        part *= 2
    return part


class S3Upload:
    """A multipart upload fed part by part (any order, several threads at once), every part with its SHA-256
    checked by S3; the object appears only when the upload completes."""

    io_threads = UPLOAD_THREADS

    def __init__(self, store: "S3ObjectStore", key: str, size: int, *, if_absent: bool, content_type: str | None) -> None:
        self.client, self.bucket, self.key, self.if_absent = store.client, store.bucket, key, if_absent
        self.part_size = window_part_size(size)
        self._parts: dict[int, dict] = {}
        self._lock = threading.Lock()
        self._content_type, self._acl = content_type or content_type_for(key), store.acl
        self._single: bytes | None = None  # a file of one part goes in one PUT (a whole-object checksum)
        self.upload_id = None
        if size > self.part_size:
            self.upload_id = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=self._content_type, ChecksumAlgorithm="SHA256", **self._acl,
            )["UploadId"]

    def write(self, offset: int, data: memoryview) -> None:
        if self.upload_id is None:
            self._single = bytes(data)
            return
        if offset % self.part_size:
            raise ValueError(f"{self.key}: window at {offset} is not on a {self.part_size}-byte part boundary")
        for start in range(0, len(data), self.part_size):
            number = (offset + start) // self.part_size + 1
            answer = self.client.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number,
                Body=bytes(data[start : start + self.part_size]), ChecksumAlgorithm="SHA256",
            )
            with self._lock:
                self._parts[number] = {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]}

    def commit(self) -> None:
        parts = [self._parts[n] for n in sorted(self._parts)]
        extra: dict[str, str] = {"IfNoneMatch": "*"} if self.if_absent else {}
        try:
            if self.upload_id is None:
                self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self._single or b"", ContentType=self._content_type,
                                       ChecksumAlgorithm="SHA256", **extra, **self._acl)
                return
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": parts}, **extra,
            )
        except ClientError as error:
            self.abort()
            if self.if_absent and _is_precondition_failed(error):
                raise ObjectExists(f"object {self.key!r} appeared in bucket {self.bucket!r} while it was uploaded; write-once keys are never overwritten") from None
            raise

    def abort(self) -> None:
        if self.upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except ClientError:
            pass  # already completed or gone; an unfinished upload is also swept by the bucket's lifecycle rule


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def _is_precondition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"412", "PreconditionFailed", "ConditionalRequestConflict"}


class S3ObjectStore:
    def __init__(self, client: Any, bucket: str, public_base_url: str, *, object_acl: str | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") + "/"
        self.acl = {"ACL": object_acl} if object_acl else {}  # e.g. public-read where ACLs make objects public

    def _existing_sha256(self, key: str) -> str | None:
        info = self.head(key)
        if info is None:
            return None
        digest = hashlib.sha256()
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        for chunk in iter(lambda: body.read(8 << 20), b""):
            digest.update(chunk)
        return digest.hexdigest()

    def _write_once_guard(self, key: str, sha256: str) -> bool:
        existing = self._existing_sha256(key)
        if existing is None:
            return False
        if existing == sha256:
            return True
        raise ObjectExists(f"object {key!r} already exists in bucket {self.bucket!r} with different bytes; write-once keys are never overwritten")

    def put_file(self, key: str, path: Path, *, if_absent: bool = False, content_type: str | None = None) -> None:
        """Streamed from disk; multipart above MULTIPART_PART_SIZE, every part with its SHA-256 checked by S3."""
        if if_absent and self.head(key) is not None and self._write_once_guard(key, file_sha256(path)):
            return
        self.client.upload_file(
            str(path), self.bucket, key, Config=transfer_config(path.stat().st_size),
            ExtraArgs={"ContentType": content_type or content_type_for(key), "ChecksumAlgorithm": "SHA256", **self.acl},
        )

    def open_upload(self, key: str, size: int, *, if_absent: bool = False, content_type: str | None = None) -> S3Upload:
        """A multipart upload written in part-aligned windows (``storage.hashed_copy``)."""
        return S3Upload(self, key, size, if_absent=if_absent, content_type=content_type)

    def put_bytes(self, key: str, data: bytes, *, if_absent: bool = False, content_type: str | None = None) -> None:
        if if_absent and self._write_once_guard(key, hashlib.sha256(data).hexdigest()):
            return
        extra: dict[str, str] = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type or content_type_for(key), **extra, **self.acl)
        except ClientError as error:
            if if_absent and _is_precondition_failed(error) and self._write_once_guard(key, hashlib.sha256(data).hexdigest()):
                return
            raise

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                raise KeyError(key) from None
            raise

    def download(self, key: str, path: Path) -> Path:
        if self.head(key) is None:
            raise KeyError(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.client.download_file(self.bucket, key, str(path))
        return path

    def head(self, key: str) -> ObjectInfo | None:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return ObjectInfo(key=key, size=int(answer["ContentLength"]))

    def list(self, prefix: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(ObjectInfo(key=o["Key"], size=int(o["Size"])) for o in page.get("Contents", []))
        return sorted(found, key=lambda info: info.key)

    def copy(self, source_key: str, dest_key: str) -> None:
        self.client.copy({"Bucket": self.bucket, "Key": source_key}, self.bucket, dest_key, ExtraArgs=dict(self.acl))

    def create(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")
        except ClientError as error:
            if _is_precondition_failed(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def public_url(self, key: str) -> str:
        return self.public_base_url + key

    def describe(self) -> str:
        return f"S3 bucket {self.bucket} served at {self.public_base_url}"

