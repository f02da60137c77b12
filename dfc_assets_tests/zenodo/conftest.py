from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dfc_assets.zenodo import FileJournal, ZenodoClient, ZenodoEmulator

TOKEN = "canary-token-5f1d9c"


@pytest.fixture
def emulator(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ZenodoEmulator]:
    """``@pytest.mark.emulator(**options)`` passes options to ZenodoEmulator (e.g. a shorter rate-limit window)."""
    marker = request.node.get_closest_marker("emulator")
    with ZenodoEmulator(tmp_path / "zenodo", token=TOKEN, **(marker.kwargs if marker else {})) as server:
        yield server


@pytest.fixture
def client(emulator: ZenodoEmulator) -> Iterator[ZenodoClient]:
    with ZenodoClient(emulator.base_url, TOKEN, timeout=10, backoff=0.01) as zenodo:
        yield zenodo


@pytest.fixture
def journal(tmp_path: Path) -> FileJournal:
    return FileJournal(tmp_path / "journal.json")


def make_file(folder: Path, name: str, size: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes((bytes([seed % 251]) + os.urandom(31)) * (size // 32) + b"x" * (size % 32))
    return path


def metadata(title: str = "Test table (2025-06-11)") -> dict:
    return {
        "title": title,
        "upload_type": "dataset",
        "description": "<p>A test table.</p>",
        "creators": [{"name": "Data for Canada"}],
        "access_right": "open",
        "license": "cc-by-4.0",
        "keywords": ["canada", "statistics"],
        "related_identifiers": [{"identifier": "https://example.org/source", "relation": "isDerivedFrom", "resource_type": "dataset"}],
    }
