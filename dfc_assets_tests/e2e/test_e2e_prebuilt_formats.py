"""Issue 13.3 through Dagster on the embedded default, for the prebuilt formats beside the packaged PMTiles
(`test_e2e_products.py`): a GeoParquet, a plain Parquet, a FlatGeobuf and a COG made by "another pipeline", served by
the sample-source server, each published as it is (the same sha256 in releases/, on Zenodo and in processed/), with
its media type on the item, its bbox read from the file and its checksums in the manifest."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime, timezone

import httpx
import pytest
import yaml

from dfc_assets.publication.published import Published
from dfc_assets.registry import REGISTRY_ENV, load_registry, packaged_registry_path
from dfc_assets.sources.prebuilt_checks import EXTENSION, MEDIA_TYPE, check_prebuilt
from dfc_assets.storage import LocalFolderStore, VersionKeys
from dfc_assets_tests.sources.test_sources_prebuilt_checks import files  # noqa: F401 - the module fixture

pytestmark = pytest.mark.e2e
FORMATS = ("geoparquet", "parquet", "flatgeobuf", "cog")
VERSION = "2025-09-01"  # the Last-Modified the sample-source server answers for the files below
SERVED_AT = datetime(2025, 9, 1, 12, 0, tzinfo=timezone.utc).timestamp()


def key_of(file_format: str) -> str:
    return f"prebuilt_{file_format}"


def entry(file_format: str) -> dict:
    return {
        "key": key_of(file_format), "id": f"ca_dfc-test_prebuilt_{file_format}",
        "title": {"en": f"A prebuilt {file_format} file"}, "description": {"en": "Made by another pipeline, published as it is."},
        "producer": "Data for Canada", "license": "CC0-1.0",
        "source": {"kind": "prebuilt", "format": file_format,
                   "url": f"{{sources_base_url}}/prebuilt/test.{EXTENSION[file_format]}" if file_format != "parquet"
                   else "{sources_base_url}/prebuilt/plain.parquet"},
    }


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    document = yaml.safe_load(packaged_registry_path().read_text(encoding="utf-8"))
    document["datasets"] += [entry(f) for f in FORMATS]
    path = tmp_path_factory.mktemp("registry") / "datasets.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    saved = os.environ.get(REGISTRY_ENV)
    os.environ[REGISTRY_ENV] = str(path)
    yield {spec.key: spec for spec in load_registry(path)}
    if saved is None:
        os.environ.pop(REGISTRY_ENV, None)
    else:
        os.environ[REGISTRY_ENV] = saved


@pytest.fixture(scope="module")
def published(specs, stack, files):  # noqa: F811
    served = {}
    for file_format in FORMATS:
        url_path = specs[key_of(file_format)].source.url.split("/prebuilt/", 1)[1]
        target = stack.sources_root / "prebuilt" / url_path
        shutil.copyfile(files[file_format], target)
        os.utime(target, (SERVED_AT, SERVED_AT))
        served[file_format] = target.read_bytes()
    results = {f: stack.publish(specs[key_of(f)], VERSION) for f in FORMATS}
    return served, results, Published(LocalFolderStore(stack.store_root, stack.urls.store_url))


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_prebuilt_file_is_published_as_it_is(stack, specs, published, files, file_format):  # noqa: F811
    served, results, state = published
    assert results[file_format].success, file_format
    spec = specs[key_of(file_format)]
    source = served[file_format]
    sha256 = hashlib.sha256(source).hexdigest()
    version = state.version(spec.id, VERSION)
    (only,) = version.files
    keys = VersionKeys(spec.id, VERSION)
    assert only.name == keys.file_name(EXTENSION[file_format]) and only.media_type == MEDIA_TYPE[file_format]
    assert (only.sha256, only.size, only.md5) == (sha256, len(source), hashlib.md5(source).hexdigest())
    assert (stack.store_root / version.release_key(only.name)).read_bytes() == source
    assert hashlib.sha256(httpx.get(version.zenodo_file(only.name).url).content).hexdigest() == sha256
    assert (stack.store_root / f"processed/{spec.id}.{EXTENSION[file_format]}").read_bytes() == source
    assert version.fully_published and version.item["assets"]["data"]["type"] == MEDIA_TYPE[file_format]
    assert version.item["assets"]["data"]["file:checksum"] == "1220" + sha256
    facts = check_prebuilt(files[file_format], file_format)
    if facts.bbox is not None:
        assert tuple(version.manifest.output.bbox) == pytest.approx(facts.bbox)
        west, south, east, north = facts.bbox
        assert version.item["bbox"][0] <= west and version.item["bbox"][2] >= east
