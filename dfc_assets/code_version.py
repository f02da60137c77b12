"""The code version recorded in manifests and used as Dagster's code_version."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from dfc_assets import __version__

# Bump when the processing changes the output bytes; a bump lets operators create rebuild versions.
TRANSFORM_CODE_VERSION = "2"  # 2: table Parquet pages bounded by bytes, not 20,000 rows (smaller)


@cache
def code_version() -> str:
    """Package version plus the git commit when running from a checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+g{commit}" if commit else __version__
