"""A fresh embedded default per test module: local services on loopback, a Dagster instance, the definitions."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from dfc_assets.cli.embedded import Embedded, prepare_dagster_home
from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices
from dfc_assets.settings import load_settings


class Stack:
    def __init__(self, workdir: Path, services: LocalServices, instance: dg.DagsterInstance, defs: dg.Definitions) -> None:
        self.workdir, self.services, self.instance, self.defs = workdir, services, instance, defs
        self.urls = services.urls

    @property
    def emulator(self):
        return self.services.emulator

    @property
    def store_root(self) -> Path:
        return Path(self.urls.store_root)

    @property
    def sources_root(self) -> Path:
        return Path(self.urls.sources_root)

    @property
    def embedded(self) -> Embedded:
        return Embedded(self.workdir, load_settings(), self.defs, self.instance)

    def publish(self, spec, version: str):
        """The run `dfc demo` and `dfc backfill` make: the shard's job, partition `{dataset}:{version}`."""
        return self.embedded.publish_run(spec, version)

    def build_catalog(self):
        return self.embedded.catalog_run()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("embedded")
    saved = {name: os.environ.get(name) for name in ("DFC_SERVICES_FILE", "DAGSTER_HOME")}
    services = LocalServices(workdir)
    with services:
        os.environ["DFC_SERVICES_FILE"] = str(workdir / SERVICES_FILE)
        os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(workdir))
        from dfc_assets.definitions import defs

        with dg.DagsterInstance.get() as instance:
            yield Stack(workdir, services, instance, defs)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
