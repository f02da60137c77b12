"""The production settings path: the whole chain on an S3 API (moto on loopback) through dagster-aws's S3Resource.

No DFC_SERVICES_FILE: every setting comes from the DFC_* and AWS_* variables, as in production; the bucket's
public URL (moto's path-style URL) is a web seed, so Range must work there too. The S3 secret key is a canary.
"""

from __future__ import annotations

import hashlib
import json
import os

import boto3
import dagster as dg
import httpx
import pytest

from dfc_assets.cli.embedded import prepare_dagster_home
from dfc_assets.registry import load_registry
from dfc_assets.services.local_stack import LocalServices
from dfc_assets.storage import CATALOG, VersionKeys, processed_pointer
from dfc_assets.torrent.download import download_from_web_seeds
from dfc_assets.torrent.metainfo import read_torrent
from dfc_assets.torrent.webseeds import file_url

pytestmark = pytest.mark.e2e
TABLE = next(spec for spec in load_registry() if spec.key == "statcan_table_33100036")
SECRET = "canary-s3-secret-4f1d9b"


@pytest.fixture(scope="module")
def production_like(tmp_path_factory, moto_s3_url):
    workdir = tmp_path_factory.mktemp("s3")
    names = ("DFC_SERVICES_FILE", "DAGSTER_HOME", "DFC_S3_BUCKET", "DFC_S3_ENDPOINT_URL", "DFC_PUBLIC_BASE_URL", "DFC_ZENODO_URL",
             "DFC_ZENODO_TOKEN", "DFC_WDS_BASE_URL", "DFC_SOURCES_BASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "DFC_S3_OBJECT_ACL")
    saved = {name: os.environ.get(name) for name in names}
    services = LocalServices(workdir)  # Zenodo emulator and sample sources; the local store is not used
    urls = services.start()
    try:
        os.environ.pop("DFC_SERVICES_FILE", None)
        os.environ.update({
            "DAGSTER_HOME": str(prepare_dagster_home(workdir)), "DFC_S3_BUCKET": "dfc-production-like",
            "DFC_S3_ENDPOINT_URL": moto_s3_url, "DFC_PUBLIC_BASE_URL": f"{moto_s3_url}/dfc-production-like/",
            "DFC_ZENODO_URL": urls.zenodo_url, "DFC_ZENODO_TOKEN": urls.zenodo_token, "DFC_WDS_BASE_URL": urls.wds_base_url,
            "DFC_SOURCES_BASE_URL": urls.sources_url, "AWS_ACCESS_KEY_ID": "canary-access-key", "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": "us-east-1", "DFC_S3_OBJECT_ACL": "public-read",  # moto serves anonymous readers by object ACL
        })
        client = boto3.client("s3", endpoint_url=moto_s3_url, region_name="us-east-1")
        client.create_bucket(Bucket="dfc-production-like")
        from dfc_assets.definitions import build_definitions

        defs = build_definitions()
        with dg.DagsterInstance.get() as instance:
            from dfc_assets.partitions import partition_key, partitions_name, shard_of

            key = partition_key(TABLE.key, "2025-06-11")
            instance.add_dynamic_partitions(partitions_name(shard_of(TABLE)), [key])
            result = defs.resolve_job_def(f"publish__{shard_of(TABLE)}").execute_in_process(partition_key=key, instance=instance, raise_on_error=False)
            catalog = defs.resolve_job_def("build_catalog").execute_in_process(instance=instance, raise_on_error=False)
            yield client, result, catalog, instance, workdir
    finally:
        services.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def get(client, key: str) -> bytes:
    return client.get_object(Bucket="dfc-production-like", Key=key)["Body"].read()


def test_the_chain_publishes_into_the_bucket(production_like):
    client, result, catalog, _, _ = production_like
    assert result.success and catalog.success
    keys = VersionKeys(TABLE.id, "2025-06-11")
    manifest = json.loads(get(client, keys.manifest))
    assert hashlib.sha256(get(client, keys.artifact)).hexdigest() == manifest["output"]["sha256"]
    assert json.loads(get(client, processed_pointer(TABLE.id)))["version"] == "2025-06-11"
    assert get(client, CATALOG)[:4] == b"PAR1"


def test_the_bucket_url_is_a_working_web_seed(production_like, tmp_path):
    client, _, _, _, _ = production_like
    keys = VersionKeys(TABLE.id, "2025-06-11")
    torrent = get(client, keys.torrent)
    seeds = read_torrent(torrent).web_seeds
    assert any("/dfc-production-like/releases/" in seed for seed in seeds)
    bucket_seed = next(seed for seed in seeds if "/dfc-production-like/" in seed)
    assert bucket_seed.endswith(f"/{keys.release_prefix}")  # BEP 19 directory form: the client appends the name
    assert httpx.get(file_url(bucket_seed, keys.artifact_name), headers={"Range": "bytes=0-3"}).status_code == 206
    downloaded = download_from_web_seeds(torrent, tmp_path, timeout=120)
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == json.loads(get(client, keys.manifest))["output"]["sha256"]


def test_no_secret_reaches_events_or_the_bucket(production_like):
    client, _, _, instance, workdir = production_like
    secrets = (SECRET, os.environ["DFC_ZENODO_TOKEN"])
    leaks = []
    for event_type in dg.DagsterEventType:
        for record in instance.get_event_records(dg.EventRecordsFilter(event_type=event_type), limit=10000):
            text = str(record.event_log_entry)
            leaks += [f"event {event_type.value}" for secret in secrets if secret in text]
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="dfc-production-like"):
        for entry in page.get("Contents", []):
            body = get(client, entry["Key"])
            leaks += [entry["Key"] for secret in secrets if secret.encode() in body]
    for path in (workdir / "dagster_home").rglob("*"):
        if path.is_file():
            leaks += [str(path) for secret in secrets if secret.encode() in path.read_bytes()]
    assert not leaks, sorted(set(leaks))
