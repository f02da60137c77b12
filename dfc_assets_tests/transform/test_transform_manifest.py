from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from dfc_assets.transform.manifest import SourceFileFacts, build_manifest, manifest_bytes
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
    )
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
    assert json.loads(data) == manifest
    assert data == manifest_bytes(json.loads(data))
    assert data.index(b'"code_version"') < data.index(b'"configuration"') < data.index(b'"dataset_id"')
    assert b'\n  "dataset_id"' in data


def test_vector_manifest_has_bbox():
    vector = TransformResult(path=Path("v.parquet"), rows=13, size=1, sha256="0" * 64, columns=(("geometry", "binary"),),
                             bbox=(-141.0, 41.7, -52.6, 82.5), footprint={"type": "Point", "coordinates": [0, 0]}, geometry_types=("Polygon",))
    output = build_manifest(dataset_id="d", version="1", sources=[], result=vector, code_version="c", configuration={})["output"]
    assert output["bbox"] == [-141.0, 41.7, -52.6, 82.5] and output["crs"] == "EPSG:4326" and output["geometry_types"] == ["Polygon"]
    assert output["footprint"] == {"type": "Point", "coordinates": [0, 0]}
