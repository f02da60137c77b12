"""requirements.lock against pyproject.toml and this environment; the manifest records the lock's sha256."""

from __future__ import annotations

import hashlib
import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from dfc_assets.dependency_lock import lock_facts, lock_path, locked_versions, normalised_name
from dfc_assets.publication.rebuild_environment import RECORDED_PACKAGES, recorded_requirements

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"


def test_every_requirement_of_pyproject_is_pinned_by_the_lock():
    """Fails after a dependency is added or changed in pyproject.toml without `make lock`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    pins = locked_versions(LOCK.read_text(encoding="utf-8"))
    unmet = []
    for text in wanted:
        requirement = Requirement(text)
        pinned = pins.get(normalised_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            unmet.append(f"{text} (lock: {pinned})")
    assert not unmet, f"run `make lock`: requirements.lock does not satisfy {unmet}"


def test_every_pin_has_hashes():
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text(encoding="utf-8").split("\n", 2)[2])
    without = [entry.split()[0] for entry in entries if "==" in entry.split()[0] and "--hash=sha256:" not in entry]
    assert not without


def test_this_environment_runs_the_locked_versions_of_the_libraries_that_shape_the_bytes():
    pins = locked_versions(LOCK.read_text(encoding="utf-8"))
    assert {name: metadata.version(name) for name in RECORDED_PACKAGES} == {name: pins[name] for name in RECORDED_PACKAGES}


def test_the_manifest_records_the_sha256_of_the_lock():
    assert lock_path() == LOCK
    assert lock_facts() == {"file": "requirements.lock", "sha256": hashlib.sha256(LOCK.read_bytes()).hexdigest()}


def test_recorded_requirements_put_the_recorded_versions_in_place_of_the_locked_ones():
    text = recorded_requirements(LOCK.read_text(encoding="utf-8"), {"python": "3.11.7", "pyarrow": "18.0.0", "gdal": "3.9.2"})
    lines = text.splitlines()
    assert "pyarrow==18.0.0" in lines and not any(line.startswith("uv==") for line in lines)
    assert not any(line.startswith(("gdal==", "python==")) for line in lines)
    assert any(line.startswith("pywin32==") and "sys_platform == 'win32'" in line for line in lines)
    assert "--hash" not in text
