"""The build manifest of a dataset version: the exact ingredients of its artifact.

Published beside the artifact (``{D}_{version}.manifest.json``) and on Zenodo. It
lists every raw source file (URL, sha256, size, HTTP validators, retrieval time), the
code version, the transform configuration, the library versions that shaped the
bytes, the dependency lock's sha256, the Parquet writer settings, and the output's
sha256, size, row count and schema. ``manifest_bytes`` gives its one canonical
serialisation.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata

from dfc_assets.dependency_lock import lock_facts
from dfc_assets.transform.result import TransformResult

MANIFEST_FORMAT = "dfc-build-manifest/1"


@dataclass(frozen=True)
class SourceFileFacts:
    url: str
    file_name: str
    sha256: str
    size: int
    etag: str | None = None
    last_modified: str | None = None  # the HTTP Last-Modified value as received
    retrieved_at: str | None = None  # ISO 8601 UTC, e.g. 2025-06-11T12:40:00Z


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {
        "python": platform.python_version(),
        **{name: _package_version(name) for name in ("pyarrow", "geopandas", "shapely", "pyogrio", "pyproj", "pandas", "numpy")},
    }
    try:
        import pyogrio

        versions["gdal"] = pyogrio.__gdal_version_string__
    except Exception:  # GDAL missing or broken: the manifest still records what is known
        versions["gdal"] = None
    try:
        import pyproj

        versions["proj"] = pyproj.proj_version_str
    except Exception:
        versions["proj"] = None
    try:
        import shapely

        versions["geos"] = shapely.geos_version_string
    except Exception:
        versions["geos"] = None
    return versions


def build_manifest(
    *,
    dataset_id: str,
    version: str,
    sources: Sequence[SourceFileFacts],
    result: TransformResult,
    code_version: str,
    configuration: dict,
) -> dict:
    output: dict = {
        "file_name": result.path.name,
        "sha256": result.sha256,
        "size": result.size,
        "rows": result.rows,
        "schema": [{"name": name, "type": type_name} for name, type_name in result.columns],
    }
    if result.bbox is not None:
        output["bbox"] = list(result.bbox)
        output["crs"] = "EPSG:4326"
        output["geometry_types"] = list(result.geometry_types)
    if result.footprint is not None:
        output["footprint"] = result.footprint
    if result.reference_start is not None:
        output["reference_start"] = result.reference_start.isoformat()
    if result.reference_end is not None:
        output["reference_end"] = result.reference_end.isoformat()
    if result.counts:
        output["counts"] = dict(result.counts)
    if result.layout is not None:
        output["parquet_layout"] = result.layout
    return {
        "manifest_format": MANIFEST_FORMAT,
        "dataset_id": dataset_id,
        "version": version,
        "sources": [asdict(source) for source in sources],
        "code_version": code_version,
        "configuration": configuration,
        "libraries": library_versions(),
        "lock": lock_facts(),
        "output": output,
    }


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
