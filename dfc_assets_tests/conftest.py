"""Shared fixtures: real servers on loopback; how `make test` spreads the suite over pytest-xdist workers."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import boto3
import pytest

from dfc_assets_tests.ports import free_port

# How `make test` spreads the suite over xdist workers (`-n 4 --dist loadscope`, see `pytest_xdist_make_scheduler`):
# a module is one unit of work (its module-scoped fixtures are built once, its tests run in order), but
PACKAGE_UNITS = ("seeding",)  # a package whose tests share a package-scoped fixture is one unit,
TEST_UNITS = ("e2e/test_e2e_demo_runs.py",)  # and in a module of independent long tests each test is one.
# Units start longest first (modules or packages, by seconds from `--durations`), so that the long ones start at
# once and the short ones fill in around them; a unit not listed starts after these, in collection order.
SLOW_FIRST = (
    "e2e/test_e2e_collection_daemon.py",   # 230 s on an idle machine, 450 s on a busy one
    "e2e/test_e2e_daemon_automation.py",   # 160 s; 380 s
    "e2e/test_e2e_demo_runs.py",           # 9 tests of 25-155 s each
    "e2e/test_e2e_ui_browser.py",          # 72 s of setup
    "e2e/test_e2e_production_topology.py",  # 57 s
    "seeding",
)


def make_conditional_writes_atomic() -> None:
    """S3 decides a conditional write (``If-None-Match: *``) atomically; moto's server looks for the key, then
    writes, so two PUTs of a new key at one moment can both succeed (two sensors' leases, seen in CI under load).
    The tests of concurrent writers need S3's guarantee, so moto's object writes are taken one at a time."""
    import functools
    import threading

    from moto.s3.responses import S3Response

    if getattr(S3Response, "_dfc_atomic_writes", False):
        return
    one_at_a_time = threading.Lock()
    for name in ("put_object", "copy_object", "_key_response_post"):
        original = getattr(S3Response, name)

        @functools.wraps(original)
        def serialized(self, *args, _original=original, **kwargs):
            with one_at_a_time:
                return _original(self, *args, **kwargs)

        setattr(S3Response, name, serialized)
    S3Response._dfc_atomic_writes = True


@pytest.fixture(scope="session")
def moto_s3_url():
    """moto's S3 server on loopback (the S3 API our production code talks to), its conditional writes atomic as on S3."""
    from moto.server import ThreadedMotoServer

    make_conditional_writes_atomic()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(moto_s3_url, monkeypatch, request):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=moto_s3_url, region_name="us-east-1")
    bucket = "dfc-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    client.create_bucket(Bucket=bucket)
    return client, bucket



@pytest.fixture(params=["local", "s3"])
def either_store(request, tmp_path):
    """A local folder store, then an S3 store on moto: the tests that take it hold for both."""
    from dfc_assets.storage import LocalFolderStore, S3ObjectStore

    if request.param == "local":
        return LocalFolderStore(tmp_path / "bucket", "http://127.0.0.1:9/")
    client, bucket = request.getfixturevalue("s3_bucket")
    return S3ObjectStore(client, bucket, "https://data.example.org/")

def _suite_path(nodeid: str) -> str:
    """``e2e/test_x.py`` for ``dfc_assets_tests/e2e/test_x.py::test_y[p]``."""
    return nodeid.split("::", 1)[0].removeprefix("dfc_assets_tests/")


def _unit(nodeid: str) -> str:
    path = _suite_path(nodeid)
    package = path.split("/", 1)[0]
    if package in PACKAGE_UNITS:
        return package
    if path in TEST_UNITS:
        return nodeid
    return path


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):
        """loadscope with the units above, in the order the workers collected them (SLOW_FIRST first)."""

        def __init__(self, config: pytest.Config, log=None) -> None:
            super().__init__(config, log)
            config.option.loadscopereorder = False  # not by number of tests: by SLOW_FIRST

        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

        def _reschedule(self, node) -> None:
            # A worker holding two tests or more needs no second unit yet: one queued behind a long module would
            # wait there while other workers run out of work.
            if not node.shutting_down and self.workqueue and self._pending_of(self.assigned_work[node]) > 1:
                return
            super()._reschedule(node)

    return SuiteScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: run in collection order, as written
        return
    rank = {name: index for index, name in enumerate(SLOW_FIRST)}

    def order(item: pytest.Item) -> int:
        path = _suite_path(item.nodeid)
        return rank.get(path, rank.get(path.split("/", 1)[0], len(rank)))

    items.sort(key=order)  # stable: a module keeps the order of its tests


@pytest.fixture(scope="session", autouse=True)
def host_temp_dir():
    """Each session (each xdist worker) its own TMPDIR, in-process and for every child process.

    The host-wide defaults under it (the scratch cache {tmp}/dfc-cache, failed downloads, the file rate limiter,
    throwaway Postgres clusters, Chromium profiles) are then not shared by tests running at the same time. Not under
    pytest's basetemp: that is private to root, and the Postgres clusters belong to the `postgres` user."""
    folder = Path(tempfile.mkdtemp(prefix="dfc-tests-"))
    folder.chmod(0o755)
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None
    try:
        yield folder
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        tempfile.tempdir = None
        shutil.rmtree(folder, ignore_errors=True)


def pytest_configure(config: pytest.Config) -> None:
    """``DFC_TEST_SWITCH_INTERVAL=1e-5 pytest …``: threads of the test processes switch that often (Python's default
    is 5 ms), which brings out the races between threads that a loaded machine brings out once in many runs."""
    if interval := os.environ.get("DFC_TEST_SWITCH_INTERVAL"):
        import sys

        sys.setswitchinterval(float(interval))
