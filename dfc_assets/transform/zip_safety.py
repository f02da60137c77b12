"""Open an upstream zip only if it is safe and plausible to read.

Refused, with the file and the cause named:
- not a zip at all (an HTML error page saved as ``.zip``: say so), or truncated
  (no central directory);
- a member path that is absolute or climbs out with ``..`` (zip-slip), a symlink
  member, an encrypted member;
- more than ``max_members`` members;
- a member declaring more than ``max_member_bytes`` uncompressed, or all members more
  than ``max_total_bytes``;
- a member over ``ratio_floor_bytes`` whose uncompressed/compressed ratio exceeds
  ``max_ratio`` (a zip bomb; real WDS CSVs compress about 23:1). Members are
  streamed, never extracted, so a bomb costs time, not disk.

Declared sizes cannot lie past this point: ``zipfile`` stops at the declared size and
checks the CRC, so a member that inflates beyond its header fails while streaming
(reported by ``read_error``).
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dfc_assets.transform.result import TransformError

GIB = 1024**3


@dataclass(frozen=True)
class ZipLimits:
    max_member_bytes: int = 64 * GIB  # the largest WDS CSV is 37.67 GB
    max_total_bytes: int = 128 * GIB
    max_ratio: float = 500.0  # deflate tops out near 1032:1; past 500:1 the content is near-constant
    ratio_floor_bytes: int = 8 * 1024 * 1024
    max_members: int = 10_000


DEFAULT_ZIP_LIMITS = ZipLimits()
STREAM_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


def _not_a_zip(zip_path: Path, where: str) -> TransformError:
    with open(zip_path, "rb") as handle:
        start = handle.read(64)
    if not start:
        cause = "the file is empty (0 bytes)"
    elif start.lstrip()[:1] == b"<":
        cause = "it is an HTML/XML page, not a zip (the server answered with an error page?)"
    elif start[:4] == b"PK\x03\x04":
        cause = "it starts like a zip but has no central directory (truncated download?)"
    else:
        cause = f"not a zip file; first bytes {start[:32]!r}"
    return TransformError(f"{where}: {cause}. Fetch the source again; the raw bytes are kept for diagnosis.")


def open_checked_zip(zip_path: Path, *, where: str, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> zipfile.ZipFile:
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise TransformError(f"{where}: file not found at {zip_path}")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, EOFError, OSError):
        raise _not_a_zip(zip_path, where) from None
    try:
        check_members(archive, where=where, limits=limits)
    except TransformError:
        archive.close()
        raise
    return archive


def check_members(archive: zipfile.ZipFile, *, where: str, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise TransformError(f"{where}: {len(infos)} members, more than the limit {limits.max_members}")
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (parts and parts[0].endswith(":")) or ".." in parts:
            raise TransformError(f"{where}: member {name!r} points outside the archive (zip-slip); refusing the zip")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise TransformError(f"{where}: member {name!r} is a symbolic link; refusing the zip")
        if info.flag_bits & 0x1:
            raise TransformError(f"{where}: member {name!r} is encrypted; cannot read it")
        if info.file_size > limits.max_member_bytes:
            raise TransformError(
                f"{where}: member {name!r} declares {info.file_size:,} bytes uncompressed, over the limit {limits.max_member_bytes:,}"
            )
        if info.file_size > limits.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise TransformError(
                    f"{where}: member {name!r} inflates {ratio:,.0f}:1 ({info.compress_size:,} -> {info.file_size:,} bytes), "
                    f"over the limit {limits.max_ratio:,.0f}:1 (zip bomb?); refusing the zip"
                )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise TransformError(f"{where}: members total {total:,} bytes uncompressed, over the limit {limits.max_total_bytes:,}")


def read_error(where: str, error: BaseException) -> TransformError:
    return TransformError(f"{where}: the zip is corrupt or truncated while reading ({error}). Fetch the source again.")
