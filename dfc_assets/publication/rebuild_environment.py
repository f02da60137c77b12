"""A throwaway Python environment made from a manifest's recorded pins, to rebuild a version as it was built.

The environment is the current lock with the recorded versions of the libraries that shaped the bytes
(``manifest["libraries"]``: pyarrow, numpy, pandas, geopandas, shapely, pyogrio, pyproj) put in their place,
installed by uv (pinned in pyproject.toml). ``offline=True`` installs from uv's cache only, never the network.
The transform runs there through ``rebuild_worker`` on a copy of this code, with the spec pickled.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dfc_assets.dependency_lock import lock_path, normalised_name

RECORDED_PACKAGES = ("pyarrow", "geopandas", "shapely", "pyogrio", "pyproj", "pandas", "numpy")
NOT_NEEDED = ("uv",)  # the installer itself: the rebuild never runs it
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)( ;[^\\\n]*)?", re.MULTILINE)


class RecordedEnvironmentError(RuntimeError):
    """The recorded environment could not be made (a pin not installable, uv missing)."""


@dataclass(frozen=True)
class RecordedEnvironment:
    python: Path
    source_root: Path  # holds the copy of the dfc_assets package the worker imports

    def run_transform(self, request: dict, spec, work: Path) -> dict:
        """Run ``rebuild_worker`` with ``request`` (version, files, out) and the pickled spec; its JSON answer."""
        (work / "spec.pickle").write_bytes(pickle.dumps(spec))
        (work / "request.json").write_text(json.dumps(request), encoding="utf-8")
        completed = subprocess.run(
            [str(self.python), "-m", "dfc_assets.publication.rebuild_worker", str(work / "request.json"), str(work / "spec.pickle")],
            capture_output=True, text=True, cwd=work, env={"PYTHONPATH": str(self.source_root), "PATH": "/usr/bin:/bin", "HOME": str(work)},
        )
        if completed.returncode != 0:
            raise RecordedEnvironmentError(f"the transform failed in the recorded environment: {completed.stderr.strip()[-2000:]}")
        return json.loads(completed.stdout.strip().splitlines()[-1])


def recorded_requirements(lock_text: str, recorded: dict[str, str | None]) -> str:
    """The lock's pins (markers kept, hashes dropped: a recorded version has other hashes) with the recorded
    library versions in place of the locked ones."""
    pins = {normalised_name(p): v for p, v in recorded.items() if p in RECORDED_PACKAGES and v}
    lines = []
    for name, version, marker in _REQUIREMENT.findall(lock_text):
        key = normalised_name(name)
        if key in NOT_NEEDED:
            continue
        lines.append(f"{name}=={pins.pop(key, version)}{marker.rstrip()}")
    lines += [f"{name}=={version}" for name, version in pins.items()]
    return "\n".join(lines) + "\n"


def _uv() -> str:
    candidate = Path(sys.executable).with_name("uv")
    found = str(candidate) if candidate.exists() else shutil.which("uv")
    if not found:
        raise RecordedEnvironmentError("uv is not installed (it is pinned in pyproject.toml: run `make setup`)")
    return found


def make_recorded_environment(recorded: dict[str, str | None], where: Path, *, offline: bool = False) -> RecordedEnvironment:
    """A venv under ``where`` with the recorded pins; raises ``RecordedEnvironmentError`` naming what could not be installed."""
    recorded_python = recorded.get("python") or ""
    running = ".".join(map(str, sys.version_info[:2]))
    if recorded_python and ".".join(recorded_python.split(".")[:2]) != running:
        raise RecordedEnvironmentError(f"the version was built with Python {recorded_python}; this interpreter is {running}")
    lock = lock_path()
    if lock is None or not lock.is_file():
        raise RecordedEnvironmentError("no requirements.lock to start the recorded environment from")
    where.mkdir(parents=True, exist_ok=True)
    requirements = where / "recorded-requirements.txt"
    requirements.write_text(recorded_requirements(lock.read_text(encoding="utf-8"), recorded), encoding="utf-8")
    venv = where / "venv"
    uv = _uv()
    flags = ["--offline"] if offline else []
    for command in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", *flags, "--python", str(venv / "bin" / "python"), "-r", str(requirements)],
    ):
        completed = subprocess.run(command, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "UV_PYTHON_DOWNLOADS": "never"})
        if completed.returncode != 0:
            raise RecordedEnvironmentError(f"could not make the recorded environment ({' '.join(command[1:3])}): {completed.stderr.strip()[-1500:]}")
    source_root = where / "source"
    package = Path(__file__).resolve().parents[1]
    shutil.copytree(package, source_root / package.name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    return RecordedEnvironment(venv / "bin" / "python", source_root)
