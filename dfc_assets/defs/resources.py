"""The one resource the assets use: a Publisher built from settings, with S3 through dagster-aws."""

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import httpx

from dfc_assets import __version__
from dfc_assets.publication.context import Publisher
from dfc_assets.settings import Settings, load_settings, zenodo_token
from dfc_assets.storage import LocalFolderStore, ObjectStore, S3ObjectStore
from dfc_assets.tls import tls_context
from dfc_assets.zenodo import ZenodoClient

USER_AGENT = f"dfc_assets/{__version__} (Data for Canada; +https://dataforcanada.org)"


def object_store(settings: Settings) -> ObjectStore:
    if settings.store_kind == "s3":
        from dagster_aws.s3 import S3Resource  # imported here: seconds of every process start that uses no S3

        client = S3Resource(endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region).get_client()
        return S3ObjectStore(client, settings.s3_bucket or "", settings.public_base_url, object_acl=settings.s3_object_acl)
    return LocalFolderStore(settings.local_store_root, settings.public_base_url)  # type: ignore[arg-type]


class PublisherResource(dg.ConfigurableResource):
    """Settings come from the environment (DFC_*; see README) so that secrets never enter run config."""

    scratch_dir: str | None = None

    def settings(self) -> Settings:
        return load_settings()

    def store(self) -> ObjectStore:
        """The object store alone (sensors and schedules need no Zenodo token)."""
        return object_store(self.settings())

    @contextmanager
    def open(self, log: Callable[[str], None], holder: str = "") -> Iterator[Publisher]:
        """``holder``: who publishes (the run), named in the dataset leases it takes (publication.dataset_lease)."""
        settings = self.settings()
        scratch = Path(tempfile.mkdtemp(prefix="dfc-", dir=self.scratch_dir))
        http = httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), headers={"User-Agent": USER_AGENT}, verify=tls_context())
        zenodo = ZenodoClient(settings.zenodo_url, zenodo_token(settings), user_agent=USER_AGENT)
        try:
            yield Publisher(settings=settings, store=object_store(settings), http=http, zenodo=zenodo, scratch=scratch, log=log, holder=holder)
        finally:
            http.close()
            close = getattr(zenodo, "close", None)
            if close:
                close()
            shutil.rmtree(scratch, ignore_errors=True)
