from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from dfc_assets.transform.manifest import Manifest, ManifestFile, SourceFileFacts, build_manifest, manifest_bytes
from dfc_assets.transform.result import TransformResult

SOURCE = SourceFileFacts(
    url="https://www150.statcan.gc.ca/n1/tbl/csv/33100036-eng.zip", file_name="33100036-eng.zip",
    sha256="1398c22b" + "0" * 56, size=573_525, etag='"abc"', last_modified="Wed, 11 Jun 2025 12:34:00 GMT",
    retrieved_at="2025-06-11T13:00:00Z",
)
RESULT = TransformResult(
    path=Path("releases/d/2025-06-11/d_2025-06-11.parquet"), rows=90_086, size=449_237, sha256="b6" * 32,
    columns=(("REF_DATE", "string"), ("VALUE", "double")), bbox=None, footprint=None,
    reference_start=date(1981, 5, 4), reference_end=date(2025, 6, 9),
)


def test_manifest_contents():
    manifest = build_manifest(
        dataset_id="ca_statcan_x", version="2025-06-11", sources=[SOURCE], result=RESULT,
        code_version="git:0123abc", configuration={"product_id": "33100036", "language": "en"},
    ).to_dict()
    assert manifest["dataset_id"] == "ca_statcan_x" and manifest["version"] == "2025-06-11"
    assert manifest["sources"] == [{
        "url": SOURCE.url, "file_name": "33100036-eng.zip", "sha256": SOURCE.sha256, "size": 573_525,
        "etag": '"abc"', "last_modified": "Wed, 11 Jun 2025 12:34:00 GMT", "retrieved_at": "2025-06-11T13:00:00Z",
    }]
    assert manifest["code_version"] == "git:0123abc"
    assert manifest["configuration"] == {"product_id": "33100036", "language": "en"}
    for library in ("python", "pyarrow", "geopandas", "shapely", "pyogrio", "gdal", "proj"):
        assert manifest["libraries"][library], library
    output = manifest["output"]
    assert output["sha256"] == "b6" * 32 and output["size"] == 449_237 and output["rows"] == 90_086
    assert output["file_name"] == "d_2025-06-11.parquet"
    assert output["schema"] == [{"name": "REF_DATE", "type": "string"}, {"name": "VALUE", "type": "double"}]
    assert output["reference_start"] == "1981-05-04" and output["reference_end"] == "2025-06-09"
    assert "bbox" not in output


def test_manifest_bytes_are_canonical():
    manifest = build_manifest(dataset_id="d", version="1", sources=[SOURCE], result=RESULT, code_version="c", configuration={"b": 1, "a": 2})
    data = manifest_bytes(manifest)
    assert data.endswith(b"}\n")
    assert json.loads(data) == manifest.to_dict()
    assert data == manifest_bytes(Manifest.from_bytes(data))
    assert data.index(b'"code_version"') < data.index(b'"configuration"') < data.index(b'"dataset_id"')
    assert b'\n  "dataset_id"' in data


def test_vector_manifest_has_bbox():
    vector = TransformResult(path=Path("v.parquet"), rows=13, size=1, sha256="0" * 64, columns=(("geometry", "binary"),),
                             bbox=(-141.0, 41.7, -52.6, 82.5), footprint={"type": "Point", "coordinates": [0, 0]}, geometry_types=("Polygon",))
    output = build_manifest(dataset_id="d", version="1", sources=[], result=vector, code_version="c", configuration={}).to_dict()["output"]
    assert output["bbox"] == [-141.0, 41.7, -52.6, 82.5] and output["crs"] == "EPSG:4326" and output["geometry_types"] == ["Polygon"]
    assert output["footprint"] == {"type": "Point", "coordinates": [0, 0]}


def test_manifest_lists_every_file_of_the_version():
    tiles = ManifestFile("d_1.pmtiles", 10, "c" * 64, "d" * 32, "application/vnd.pmtiles", "tiles")
    main = ManifestFile("d_2025-06-11.parquet", 449_237, "b6" * 32, "e" * 32, "application/vnd.apache.parquet", "data")
    manifest = build_manifest(dataset_id="d", version="1", sources=[SOURCE], result=RESULT, code_version="c", configuration={},
                              files=[main, tiles])
    document = json.loads(manifest.to_bytes())
    assert document["manifest_format"] == "dfc-build-manifest/2"
    assert document["files"] == [
        {"name": "d_2025-06-11.parquet", "size": 449_237, "sha256": "b6" * 32, "md5": "e" * 32, "media_type": "application/vnd.apache.parquet", "role": "data"},
        {"name": "d_1.pmtiles", "size": 10, "sha256": "c" * 64, "md5": "d" * 32, "media_type": "application/vnd.pmtiles", "role": "tiles"},
    ]
    back = Manifest.from_bytes(manifest.to_bytes())
    assert back == manifest and back.primary == main and back.file("d_1.pmtiles") == tiles and back.total_size == 449_247


def test_format_1_manifest_reads_as_one_file():
    old = {
        "manifest_format": "dfc-build-manifest/1", "dataset_id": "d", "version": "1", "sources": [], "code_version": "c",
        "configuration": {}, "libraries": {},
        "output": {"file_name": "d_1.parquet", "sha256": "a" * 64, "size": 5, "rows": 2, "schema": [{"name": "x", "type": "int64"}]},
    }
    manifest = Manifest.from_bytes(json.dumps(old).encode())
    assert [(f.name, f.size, f.sha256, f.md5, f.media_type, f.role) for f in manifest.files] == [
        ("d_1.parquet", 5, "a" * 64, None, "application/vnd.apache.parquet", "data")]
    assert manifest.output.rows == 2 and manifest.output.schema_dicts == [{"name": "x", "type": "int64"}]


def test_a_broken_manifest_is_an_error_naming_the_version():
    import pytest

    from dfc_assets.transform.manifest import ManifestError

    with pytest.raises(ManifestError, match="dataset d version 1"):
        Manifest.from_bytes(json.dumps({"dataset_id": "d", "version": "1"}).encode())
