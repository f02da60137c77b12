"""Where things are published: read from the environment (production) or services.json (embedded default).

Secrets are not kept here: the Zenodo token and the S3 keys are read by the code that uses them
(the Dagster resources), from the environment, and never logged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

STATCAN_WDS_URL = "https://www150.statcan.gc.ca/t1/wds/rest"
ZENODO_URL = "https://zenodo.org"
ZENODO_TOKEN_VARIABLE = "DFC_ZENODO_TOKEN"


class SettingsError(ValueError):
    """A setting is missing or contradictory; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    zenodo_url: str
    store_kind: str                       # "local" or "s3"
    public_base_url: str                  # public URL of the bucket root (releases/ URLs are web seeds)
    local_store_root: Path | None = None
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_object_acl: str | None = None
    wds_base_url: str = STATCAN_WDS_URL
    sources_base_url: str = ""
    mirror_base_urls: tuple[str, ...] = ()
    trackers: tuple[str, ...] = ()
    seeder_peer: str | None = None
    torrent_flavour: str = "hybrid"
    zenodo_community: str | None = "dataforcanada"
    embedded: bool = False
    embedded_zenodo_token: str | None = field(default=None, repr=False)

    def expand(self, template: str) -> str:
        """Fill {sources_base_url} and {wds_base_url} in a registry URL."""
        return template.format(sources_base_url=self.sources_base_url.rstrip("/"), wds_base_url=self.wds_base_url.rstrip("/"))


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(value.split()) if value else ()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """DFC_SERVICES_FILE (written by `dfc services`) selects the embedded default; other DFC_* variables override it."""
    env = os.environ if environ is None else environ
    services: dict = {}
    services_file = env.get("DFC_SERVICES_FILE")
    if services_file:
        path = Path(services_file)
        if not path.is_file():
            raise SettingsError(f"DFC_SERVICES_FILE={services_file!r} does not exist; start the local services with `dfc services --workdir DIR`")
        services = json.loads(path.read_text(encoding="utf-8"))
    store_kind = env.get("DFC_STORE", "s3" if env.get("DFC_S3_BUCKET") else ("local" if services else ""))
    if store_kind not in ("local", "s3"):
        raise SettingsError("no object store configured: set DFC_SERVICES_FILE (embedded default) or DFC_S3_BUCKET and DFC_PUBLIC_BASE_URL (production)")
    public_base_url = env.get("DFC_PUBLIC_BASE_URL") or services.get("store_url", "")
    if not public_base_url:
        raise SettingsError("DFC_PUBLIC_BASE_URL is required: the public https URL of the bucket root (releases/ URLs become web seeds)")
    local_root = env.get("DFC_LOCAL_STORE") or services.get("store_root")
    if store_kind == "local" and not local_root:
        raise SettingsError("DFC_STORE=local needs DFC_LOCAL_STORE (a folder) or DFC_SERVICES_FILE")
    if store_kind == "s3" and not env.get("DFC_S3_BUCKET"):
        raise SettingsError("DFC_STORE=s3 needs DFC_S3_BUCKET")
    return Settings(
        zenodo_url=env.get("DFC_ZENODO_URL") or services.get("zenodo_url") or ZENODO_URL,
        store_kind=store_kind,
        public_base_url=public_base_url,
        local_store_root=Path(local_root) if local_root else None,
        s3_bucket=env.get("DFC_S3_BUCKET"),
        s3_endpoint_url=env.get("DFC_S3_ENDPOINT_URL"),
        s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
        s3_object_acl=env.get("DFC_S3_OBJECT_ACL") or None,
        wds_base_url=env.get("DFC_WDS_BASE_URL") or services.get("wds_base_url") or STATCAN_WDS_URL,
        sources_base_url=env.get("DFC_SOURCES_BASE_URL") or services.get("sources_url", ""),
        mirror_base_urls=_words(env.get("DFC_MIRROR_BASE_URLS")),
        trackers=_words(env.get("DFC_TRACKERS")),
        seeder_peer=env.get("DFC_SEEDER_PEER") or services.get("seeder_peer") or None,
        torrent_flavour=env.get("DFC_TORRENT_FLAVOUR", "hybrid"),
        zenodo_community=env.get("DFC_ZENODO_COMMUNITY", "dataforcanada") or None,
        embedded=bool(services),
        embedded_zenodo_token=services.get("zenodo_token"),
    )


def zenodo_token(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    token = env.get(ZENODO_TOKEN_VARIABLE) or settings.embedded_zenodo_token
    if not token:
        raise SettingsError(f"{ZENODO_TOKEN_VARIABLE} is not set: create a Zenodo personal access token (scopes deposit:write, deposit:actions) and export it")
    return token
