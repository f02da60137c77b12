"""The build manifest of a dataset version: the exact ingredients of its files.

Published beside the files (``{D}_{version}.manifest.json``) and on Zenodo. It lists every
raw source file (URL, sha256, size, HTTP validators, retrieval time), the code version, the
transform configuration, the library versions that shaped the bytes, the files of the version
(``files``: name, size, sha256, md5, media type, role; the first is the main data file) and
what the data holds (``output``: rows, schema, bbox, footprint, reference period and Parquet
writer settings of the main file), and the dependency lock's sha256. ``Manifest.to_bytes`` gives its one canonical serialisation; ``Manifest.from_bytes``
also reads format 1 manifests, which held exactly one file described by ``output``.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from importlib import metadata

from dfc_assets.dependency_lock import lock_facts
from dfc_assets.storage.media_types import media_type_for
from dfc_assets.transform.result import TransformResult

MANIFEST_FORMAT = "dfc-build-manifest/2"
MANIFEST_FORMAT_V1 = "dfc-build-manifest/1"

ROLE_DATA = "data"
ROLE_TILES = "tiles"
ROLES = (ROLE_DATA, ROLE_TILES, "documentation", "metadata")


class ManifestError(ValueError):
    """A manifest that does not parse; the message names the dataset and version when they are known."""


@dataclass(frozen=True)
class SourceFileFacts:
    url: str
    file_name: str
    sha256: str
    size: int
    etag: str | None = None
    last_modified: str | None = None  # the HTTP Last-Modified value as received
    retrieved_at: str | None = None  # ISO 8601 UTC, e.g. 2025-06-11T12:40:00Z

    @classmethod
    def from_dict(cls, d: Mapping) -> "SourceFileFacts":
        return cls(url=d["url"], file_name=d["file_name"], sha256=d["sha256"], size=int(d["size"]), etag=d.get("etag"),
                   last_modified=d.get("last_modified"), retrieved_at=d.get("retrieved_at"))


@dataclass(frozen=True)
class ManifestFile:
    """One file of a version, as published under releases/, on Zenodo, in the torrent and on the STAC item."""

    name: str
    size: int
    sha256: str
    md5: str | None
    media_type: str
    role: str = ROLE_DATA

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @classmethod
    def from_dict(cls, d: Mapping) -> "ManifestFile":
        return cls(name=d["name"], size=int(d["size"]), sha256=d["sha256"], md5=d.get("md5"),
                   media_type=d.get("media_type") or media_type_for(d["name"]), role=d.get("role") or ROLE_DATA)


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class OutputFacts:
    """What the main data file holds. ``file_name``/``sha256``/``size`` repeat ``files[0]`` for format 1 readers."""

    file_name: str
    sha256: str
    size: int
    rows: int | None = None
    schema: tuple[Column, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    crs: str | None = None
    geometry_types: tuple[str, ...] = ()
    footprint: dict | None = None
    reference_start: str | None = None  # ISO date
    reference_end: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    parquet_layout: Mapping | None = None  # the Parquet writer settings that shaped the bytes

    def to_dict(self) -> dict:
        out: dict = {"file_name": self.file_name, "sha256": self.sha256, "size": self.size}
        if self.rows is not None:
            out["rows"] = self.rows
        if self.schema:
            out["schema"] = [{"name": c.name, "type": c.type} for c in self.schema]
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
            out["crs"] = self.crs or "EPSG:4326"
            out["geometry_types"] = list(self.geometry_types)
        if self.footprint is not None:
            out["footprint"] = self.footprint
        if self.reference_start is not None:
            out["reference_start"] = self.reference_start
        if self.reference_end is not None:
            out["reference_end"] = self.reference_end
        if self.counts:
            out["counts"] = dict(self.counts)
        if self.parquet_layout is not None:
            out["parquet_layout"] = dict(self.parquet_layout)
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> "OutputFacts":
        return cls(
            file_name=d["file_name"], sha256=d["sha256"], size=int(d["size"]),
            rows=int(d["rows"]) if d.get("rows") is not None else None,
            schema=tuple(Column(c["name"], c["type"]) for c in d.get("schema", ())),
            bbox=tuple(float(v) for v in d["bbox"]) if d.get("bbox") else None,  # type: ignore[arg-type]
            crs=d.get("crs"), geometry_types=tuple(d.get("geometry_types", ())), footprint=d.get("footprint"),
            reference_start=d.get("reference_start"), reference_end=d.get("reference_end"), counts=dict(d.get("counts", {})),
            parquet_layout=d.get("parquet_layout"),
        )

    @property
    def schema_dicts(self) -> list[dict]:
        return [{"name": c.name, "type": c.type} for c in self.schema]


@dataclass(frozen=True)
class Manifest:
    dataset_id: str
    version: str
    sources: tuple[SourceFileFacts, ...]
    code_version: str
    configuration: Mapping
    libraries: Mapping[str, str | None]
    output: OutputFacts
    files: tuple[ManifestFile, ...]
    upstream_releases: tuple[str, ...] = ()  # the upstream releases this version covers (cadence coalescing)
    manifest_format: str = MANIFEST_FORMAT
    lock: Mapping | None = None  # {"file", "sha256"} of the dependency lock that built it

    def __post_init__(self) -> None:
        if not self.files:
            raise ManifestError(f"dataset {self.dataset_id} version {self.version}: a manifest lists at least one file")
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ManifestError(f"dataset {self.dataset_id} version {self.version}: file names repeat in the manifest: {names}")

    @property
    def primary(self) -> ManifestFile:
        """The main data file (the first one)."""
        return self.files[0]

    def file(self, name: str) -> ManifestFile | None:
        return next((f for f in self.files if f.name == name), None)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def source_urls(self) -> list[str]:
        return [s.url for s in self.sources]

    @property
    def retrieved_at(self) -> str | None:
        """When the newest upstream file was retrieved (the release instant we know)."""
        return max((s.retrieved_at or "" for s in self.sources), default="") or None

    def with_files(self, files: Sequence[ManifestFile]) -> "Manifest":
        primary = files[0]
        return replace(self, files=tuple(files), output=replace(self.output, file_name=primary.name, sha256=primary.sha256, size=primary.size))

    def to_dict(self) -> dict:
        document = {
            "manifest_format": self.manifest_format,
            "dataset_id": self.dataset_id,
            "version": self.version,
            "sources": [asdict(source) for source in self.sources],
            "code_version": self.code_version,
            "configuration": dict(self.configuration),
            "libraries": dict(self.libraries),
            "lock": dict(self.lock) if self.lock is not None else None,
            "output": self.output.to_dict(),
            "files": [asdict(f) for f in self.files],
        }
        if self.upstream_releases:
            document["upstream_releases"] = list(self.upstream_releases)
        return document

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_dict(cls, d: Mapping) -> "Manifest":
        where = f"dataset {d.get('dataset_id')} version {d.get('version')}"
        try:
            output = OutputFacts.from_dict(d["output"])
            if d.get("files"):
                files = tuple(ManifestFile.from_dict(f) for f in d["files"])
            else:  # format 1: one file, described by output
                files = (ManifestFile(output.file_name, output.size, output.sha256, None, media_type_for(output.file_name), ROLE_DATA),)
            return cls(
                dataset_id=d["dataset_id"], version=d["version"],
                sources=tuple(SourceFileFacts.from_dict(s) for s in d.get("sources", ())),
                code_version=d.get("code_version", ""), configuration=dict(d.get("configuration", {})),
                libraries=dict(d.get("libraries", {})), output=output, files=files,
                upstream_releases=tuple(d.get("upstream_releases", ())),
                manifest_format=d.get("manifest_format", MANIFEST_FORMAT_V1), lock=d.get("lock"),
            )
        except ManifestError:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestError(f"{where}: the build manifest does not parse ({type(error).__name__}: {error})") from error

    @classmethod
    def from_bytes(cls, data: bytes) -> "Manifest":
        try:
            document = json.loads(data)
        except ValueError as error:
            raise ManifestError(f"the build manifest is not JSON: {error}") from error
        if not isinstance(document, dict):
            raise ManifestError("the build manifest is not a JSON object")
        return cls.from_dict(document)


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


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def output_facts(result: TransformResult) -> OutputFacts:
    return OutputFacts(
        file_name=result.path.name, sha256=result.sha256, size=result.size, rows=result.rows,
        schema=tuple(Column(name, type_name) for name, type_name in result.columns),
        bbox=tuple(result.bbox) if result.bbox is not None else None,  # type: ignore[arg-type]
        crs="EPSG:4326" if result.bbox is not None else None, geometry_types=tuple(result.geometry_types),
        footprint=result.footprint, reference_start=_iso(result.reference_start), reference_end=_iso(result.reference_end),
        counts=dict(result.counts), parquet_layout=result.layout,
    )


def build_manifest(
    *,
    dataset_id: str,
    version: str,
    sources: Sequence[SourceFileFacts],
    result: TransformResult | None = None,
    code_version: str,
    configuration: dict,
    output: OutputFacts | None = None,
    files: Sequence[ManifestFile] = (),
    upstream_releases: Sequence[str] = (),
) -> Manifest:
    """The manifest of a version: from a transform's ``result`` (one file unless ``files`` lists more), or from
    ``output`` and ``files`` (prebuilt artifacts)."""
    if output is None:
        if result is None:
            raise ValueError("build_manifest needs a transform result or the output facts")
        output = output_facts(result)
    if not files:
        files = (ManifestFile(output.file_name, output.size, output.sha256, None, media_type_for(output.file_name), ROLE_DATA),)
    manifest = Manifest(
        dataset_id=dataset_id, version=version, sources=tuple(sources), code_version=code_version,
        configuration=configuration, libraries=library_versions(), output=output, files=tuple(files),
        upstream_releases=tuple(upstream_releases), lock=lock_facts(),
    )
    return manifest.with_files(manifest.files)


def manifest_bytes(manifest: Manifest) -> bytes:
    return manifest.to_bytes()
