"""The publication journal: where a retry after a crash finds its draft."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol


class PublicationJournal(Protocol):
    def load(self) -> dict | None: ...

    def save(self, state: dict) -> None: ...


class FileJournal:
    """A journal in a local JSON file, replaced atomically (tests, the CLI)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> dict | None:
        if not self.path.exists():
            return None
        return json.loads(self.path.read_text(encoding="utf-8"))

    def save(self, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class MemoryJournal:
    def __init__(self, state: dict | None = None) -> None:
        self.state = state

    def load(self) -> dict | None:
        return dict(self.state) if self.state is not None else None

    def save(self, state: dict) -> None:
        self.state = dict(state)
