"""Issues 8 and 12.8: what an operator sees. With the local services and `dagster dev` running, a version is
materialized through the UI's GraphQL API, and its asset pages are opened in headless Chromium: the DOI is a
link and the checks show as passed, on the version's partition `{dataset}:{version}` of its shard's chain.
Runs launched from the UI carry the dataset's tags; a run of the embedded default (`dfc demo`) re-executes
from the UI; after an old version is published the asset shows the dataset's current version and DOI.
Screenshots are kept under test-artifacts/ui/."""

from __future__ import annotations

import json
import os
import re
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from dfc_assets.cli.embedded import Embedded
from dfc_assets.defs.jobs import publish_job_name
from dfc_assets.partitions import partition_key, partitions_name, shard_of
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.storage import VersionKeys
from dfc_assets_tests.e2e.topology_graphql import TERMINAL_RUN_STATUSES, DagsterGraphQL
from dfc_assets_tests.e2e.topology_processes import ManagedProcess, free_port, wait_until
from dfc_assets_tests.e2e.ui_browser import ARTIFACTS_DIR, chromium_path, launch_chromium, screenshot

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is in the test extra: pip install -e '.[test]'")

BIN = Path(sys.executable).parent
BOUNDARY = next(spec for spec in load_registry() if spec.key == "fixture_provinces_territories")
VERSION = "2022-02-09"
SHARD = shard_of(BOUNDARY)
PARTITION = partition_key(BOUNDARY.key, VERSION)
PAGE_TIMEOUT_MS = 90_000
# Playwright's `expect` waits 5 s by default; a loaded CI machine once showed the asset page's metadata later than that
sync_api.expect.set_options(timeout=PAGE_TIMEOUT_MS)
WORKSPACE_YAML = """\
load_from:
  - python_module:
      module_name: dfc_assets.definitions
      location_name: dfc_assets
"""
INSTANCE_YAML = """\
telemetry:
  enabled: false
nux:
  enabled: false
run_coordinator:
  module: dfc_assets.defs.run_coordinator
  class: DatasetTagsRunCoordinator
"""


class UI:
    def __init__(self, base_url: str, browser, record: dict, graphql: DagsterGraphQL, run_id: str, home: Path, env: dict, process) -> None:
        self.base_url, self.browser, self.record = base_url, browser, record
        self.graphql, self.run_id, self.home, self.env, self.process = graphql, run_id, home, env, process
        self.page_errors: list[str] = []

    def open(self, path: str):
        page = self.browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("pageerror", lambda error: self.page_errors.append(f"{path}: {error}"))
        page.goto(self.base_url + path, wait_until="domcontentloaded")
        return page


def asset_path(asset: str, **query: str) -> str:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/assets/{SHARD}/{asset}" + (f"?{suffix}" if suffix else "")


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed: `apt-get install -y chromium` (.ci/run does)")
    workdir = tmp_path_factory.mktemp("ui")
    with ExitStack() as stack:
        urls = stack.enter_context(LocalServices(workdir / "embedded"))
        home = workdir / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
        workspace = workdir / "workspace.yaml"
        workspace.write_text(WORKSPACE_YAML, encoding="utf-8")
        env = {**os.environ, "DAGSTER_HOME": str(home), "DFC_SERVICES_FILE": str(workdir / "embedded" / SERVICES_FILE), "PYTHONUNBUFFERED": "1"}
        port = free_port()
        dev = ManagedProcess("dagster-dev", [str(BIN / "dagster"), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
                             env=env, log_dir=workdir, cwd=workdir)
        stack.callback(dev.stop)
        graphql = DagsterGraphQL(f"http://127.0.0.1:{port}")
        stack.callback(graphql.close)
        wait_until(graphql.server_info, timeout=180, what="dagster dev's webserver", processes=[dev])
        wait_until(lambda: graphql.location_status() == "LOADED", timeout=180, what="code location dfc_assets LOADED", processes=[dev])

        graphql.add_dynamic_partition(partitions_name(SHARD), PARTITION)
        run_id = graphql.launch_partition_run(publish_job_name(SHARD), PARTITION)
        status = wait_until(lambda: (s := graphql.run_status(run_id)) in TERMINAL_RUN_STATUSES and s, timeout=420, interval=1.0,
                            what=f"run {run_id} publishing {PARTITION}", processes=[dev])
        assert status == "SUCCESS", graphql.run_failure_messages(run_id)
        record = json.loads((Path(urls.store_root) / VersionKeys(BOUNDARY.id, VERSION).zenodo_record).read_text())

        playwright = stack.enter_context(sync_api.sync_playwright())
        browser = launch_chromium(playwright)
        stack.callback(browser.close)
        view = UI(graphql.base_url, browser, record, graphql, run_id, home, env, dev)
        yield view
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS_DIR / "page_errors.txt").write_text("\n".join(view.page_errors) + "\n", encoding="utf-8")


def test_the_zenodo_record_page_links_the_doi_and_concept_doi(ui):
    page = ui.open(asset_path("zenodo_record", partition=PARTITION))
    doi_link = page.locator(f'a[href="https://doi.org/{ui.record["doi"]}"]').first
    sync_api.expect(doi_link).to_be_visible()
    sync_api.expect(doi_link).to_have_text(re.compile(re.escape(ui.record["doi"])))
    sync_api.expect(page.locator(f'a[href="https://doi.org/{ui.record["concept_doi"]}"]').first).to_be_visible()
    sync_api.expect(page.get_by_text(ui.record["record_url"]).first).to_be_visible()
    screenshot(page, "zenodo_record_overview")
    page.close()


@pytest.mark.parametrize(("asset", "check"), [
    ("parquet", "artifact_matches_manifest"),
    ("zenodo_record", "zenodo_file_matches_artifact"),
    ("torrent", "web_seeds_serve_the_torrent"),
])
def test_the_checks_tab_shows_each_check_passed(ui, asset, check):
    page = ui.open(asset_path(asset, view="checks"))
    sync_api.expect(page.get_by_text(check).first).to_be_visible()
    sync_api.expect(page.get_by_text("This is a blocking asset check.")).to_be_visible()
    sync_api.expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    assert page.get_by_text("Failed", exact=True).count() == 0
    screenshot(page, f"{asset}_checks")
    page.close()


def test_the_partitions_view_shows_the_version_materialized(ui):
    page = ui.open(asset_path("stac_item", view="partitions"))
    sync_api.expect(page.get_by_text("Materialized (1)")).to_be_visible()
    # the UI middle-truncates long partition keys ("fixture_provinc…ries:2022-02-09"); the full key is in the DOM
    sync_api.expect(page.get_by_text(re.compile(re.escape(f":{VERSION}") + "$")).filter(visible=True).first).to_be_visible()
    assert page.get_by_text(PARTITION).count() > 0
    screenshot(page, "stac_item_partitions")
    page.close()


def test_a_run_launched_from_the_ui_carries_the_dataset_tags(ui):
    tags = ui.graphql.run_tags(ui.run_id)  # launched with dagster/partition only, as the UI's Materialize does
    assert tags["dfc/dataset"] == BOUNDARY.key and tags["dfc/shard"] == SHARD and tags["dagster/partition"] == PARTITION


@pytest.fixture(scope="module")
def embedded_runs(ui):
    """Runs the embedded default makes (`dfc demo`, `dfc backfill`): the current version again, then the old vintage 2016."""
    saved = dict(os.environ)
    os.environ.update({key: ui.env[key] for key in ("DAGSTER_HOME", "DFC_SERVICES_FILE")})
    try:
        import dagster as dg

        from dfc_assets.definitions import defs
        from dfc_assets.settings import load_settings

        with dg.DagsterInstance.from_config(str(ui.home)) as instance:
            embedded = Embedded(ui.home.parent, load_settings(), defs, instance)
            again = embedded.publish_run(BOUNDARY, VERSION)
            old = embedded.publish_run(BOUNDARY, "2016")
            assert again.success and old.success
            yield again.run_id, old.run_id
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_re_execute_works_on_a_run_of_the_embedded_default(ui, embedded_runs):
    parent, _ = embedded_runs
    child = ui.graphql.reexecute(parent)
    status = wait_until(lambda: (s := ui.graphql.run_status(child)) in TERMINAL_RUN_STATUSES and s, timeout=420, interval=1.0,
                        what=f"re-execution {child} of embedded run {parent}", processes=[ui.process])
    assert status == "SUCCESS", ui.graphql.run_failure_messages(child)
    assert ui.graphql.run_tags(child)["dfc/dataset"] == BOUNDARY.key


def test_the_asset_shows_the_current_version_and_doi_not_the_last_one_run(ui, embedded_runs):
    _, old_run = embedded_runs
    old = ui.graphql.latest_materialization([SHARD, "stac_item"], partition_key(BOUNDARY.key, "2016"))
    assert old["run_id"] == old_run and old["metadata"]["version"] == "2016"
    latest = ui.graphql.latest_materialization([SHARD, "stac_item"])  # the asset page's "latest materialization"
    for shown in (old, latest):
        assert shown["metadata"]["current_version"] == VERSION
        assert shown["metadata"]["current_doi"] == f"https://doi.org/{ui.record['doi']}"
    page = ui.open(asset_path("stac_item"))
    sync_api.expect(page.get_by_text("current_doi").first).to_be_visible()
    screenshot(page, "stac_item_current_version")
    page.close()
