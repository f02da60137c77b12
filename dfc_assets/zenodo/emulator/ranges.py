"""HTTP Range parsing for file downloads (RFC 9110 §14), single ranges only."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The range cannot be served: answer 416 with ``Content-Range: bytes */size``."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None to send the whole file (no or unusable header).

    Several ranges are answered with the whole body (allowed by RFC 9110).
    """
    if not header:
        return None
    match = _SINGLE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:
        length = int(last_text)
        if length == 0 or size == 0:
            raise Unsatisfiable()
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise Unsatisfiable()
    return first, min(last, size - 1)
