"""A file copied into the store while every hash a version needs is computed from the same read.

One pass over the bytes gives the file's SHA-256 (manifest, STAC multihash) and MD5 (Zenodo), the v1 SHA-1
piece hashes and the v2 (BEP 52) merkle tree of its torrents, while each window of the file goes to the store:
written at its offset into a local folder, or sent as one part of an S3 multipart upload with its SHA-256
checked by S3. Later steps build the torrents from these hashes without reading the file again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dfc_assets.storage.store import ObjectStore
from dfc_assets.torrent.hashing import ContiguousPieces, FileDigests, digest_file


def put_file_hashed(
    store: ObjectStore,
    key: str,
    path: Path,
    *,
    piece_size: int,
    v2: bool = True,
    pad_last_piece: bool = False,
    contiguous: ContiguousPieces | None = None,
    content_type: str | None = None,
    sha256: str | None = None,
) -> FileDigests:
    """Write ``path`` under the write-once ``key`` and return its digests (md5, sha256, v1 pieces in both forms of
    the last piece, v2 tree unless ``v2`` is off), reading it once.

    A key already present (a step run again) is checked by the store's own write-once rule, which reads it; an
    empty file or a store without window uploads costs a second read too.

    ``sha256``: the file's SHA-256 when the caller computed it from these very bytes as it wrote them (a download),
    which spares that hash."""
    path = Path(path)
    size = path.stat().st_size
    hashes = dict(piece_size=piece_size, v1=True, v2=v2, md5=True, sha256=sha256 is None, pad_last_piece=pad_last_piece,
                  contiguous=contiguous)
    open_upload = getattr(store, "open_upload", None)
    if size == 0 or open_upload is None or store.head(key) is not None:
        digests = digest_file(path, **hashes)
        store.put_file(key, path, if_absent=True, content_type=content_type)
    else:
        upload = open_upload(key, size, if_absent=True, content_type=content_type)
        try:
            digests = digest_file(path, **hashes, sink=upload.write, window_size=upload.part_size, io_threads=upload.io_threads)
        except BaseException:
            upload.abort()
            raise
        upload.commit()
    return digests if sha256 is None else dataclasses.replace(digests, sha256=sha256)
