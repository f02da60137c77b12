"""The publication journal: where a retry after a crash finds its draft.

A journal is written before every call whose answer could be lost, so it is the one source of
truth of what an earlier attempt did. A journal that cannot be read (empty, corrupt, not an
object) is an error naming where it is, never silently taken as "nothing was done": that could
leave a second draft or a second concept DOI behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol


class JournalError(RuntimeError):
    """A journal exists but cannot be read."""


class PublicationJournal(Protocol):
    def load(self) -> dict | None: ...

    def save(self, state: dict) -> None: ...


def parse_journal(raw: bytes, where: str) -> dict:
    try:
        state = json.loads(raw) if raw.strip() else None
    except ValueError as error:
        raise JournalError(f"the Zenodo journal {where} is corrupt ({error}); look for this version's draft on Zenodo, "
                           "then delete the journal to start over") from None
    if not isinstance(state, dict):
        raise JournalError(f"the Zenodo journal {where} is {'empty' if state is None else 'not a JSON object'}; "
                           "look for this version's draft on Zenodo, then delete the journal to start over")
    return state


class FileJournal:
    """A journal in a local JSON file, replaced atomically (tests, the CLI)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> dict | None:
        if not self.path.exists():
            return None
        return parse_journal(self.path.read_bytes(), str(self.path))

    def save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class MemoryJournal:
    def __init__(self, state: dict | None = None) -> None:
        self.state = state

    def load(self) -> dict | None:
        return dict(self.state) if self.state is not None else None

    def save(self, state: dict) -> None:
        self.state = dict(state)
