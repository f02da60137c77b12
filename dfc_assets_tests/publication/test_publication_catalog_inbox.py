"""The real publication steps announce each item, and the next catalog update reads only what was announced.

Two versions of the boundary fixture published on the local services (Zenodo emulator, sample sources, folder
store), the second a backfilled older vintage, each followed by a catalog update; the result equals a full rebuild.
"""

from __future__ import annotations

import pytest

from dfc_assets.catalog.geoparquet import read_catalog
from dfc_assets.catalog.inbox import announced
from dfc_assets.publication.catalog import build_catalog
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.settings import load_settings
from dfc_assets.storage import CATALOG, LocalFolderStore
from dfc_assets_tests.catalog.test_catalog_concurrent_writers import publisher
from dfc_assets_tests.cli.test_cli_operator import BOUNDARY, publish

SPECS = load_registry()


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("inbox")
    with LocalServices(workdir):
        settings = load_settings({"DFC_SERVICES_FILE": str(workdir / SERVICES_FILE)})
        yield workdir, LocalFolderStore(settings.local_store_root, settings.public_base_url)


def test_published_versions_reach_the_catalog_through_the_inbox(services, tmp_path):
    workdir, store = services
    publish(workdir, "2022-02-09", with_catalog=False)
    assert [(a.dataset_id, a.version) for a in announced(store)] == [(BOUNDARY.id, "2022-02-09")]
    first = build_catalog(publisher(store, tmp_path / "first", []), SPECS)
    assert first.mode == "full" and not announced(store)

    publish(workdir, "2016", with_catalog=False)  # a backfill: older than the published version
    assert [a.version for a in announced(store)] == ["2016"]
    update = build_catalog(publisher(store, tmp_path / "update", []), SPECS)
    assert update.mode == "update" and update.changed_datasets == (BOUNDARY.id,) and not announced(store)
    rows = [(i["properties"]["version"], i["properties"]["deprecated"]) for i in read_catalog(store.root / CATALOG)]
    assert rows == [("2016", True), ("2022-02-09", False)]

    full = build_catalog(publisher(store, tmp_path / "full", []), SPECS, full=True)
    assert full.file.sha256 == update.file.sha256 and full.stac_written == () and full.feeds_written == ()
