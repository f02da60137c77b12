"""Headless Debian Chromium driven by Playwright (never `playwright install`: no browser download), and screenshots kept as test artifacts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
# Without the background-networking flags Chromium keeps calling Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--metrics-recording-only", "--mute-audio",
]


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def launch_chromium(playwright):
    """Debian's binary with a fresh throwaway profile (Playwright makes one per launch)."""
    path = chromium_path()
    if path is None:
        raise FileNotFoundError("Debian's chromium is not installed: `apt-get install -y chromium` (.ci/run does)")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=120_000)


def screenshot(page, name: str) -> Path:
    """Full-page PNG under test-artifacts/ui/ (gitignored), kept after the test for people and CI to look at."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / (re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
