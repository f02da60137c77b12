"""Step `parquet`: the files of a version under releases/ (the deterministic Parquet/GeoParquet, its PMTiles for
boundaries), and the build manifest beside them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dfc_assets.code_version import TRANSFORM_CODE_VERSION, code_version
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.footprint_png import canada_polygon, footprint_png
from dfc_assets.publication.raw import download_archive
from dfc_assets.publication.scratch import admit, evict
from dfc_assets.registry import DatasetSpec, StatcanBoundarySource
from dfc_assets.sources.kinds import source_config, transform
from dfc_assets.storage import VersionKeys
from dfc_assets.storage.digests import digest_file
from dfc_assets.storage.media_types import media_type_for
from dfc_assets.transform.manifest import ROLE_DATA, ROLE_TILES, Manifest, ManifestFile, OutputFacts, SourceFileFacts, build_manifest
from dfc_assets.transform.pmtiles import geoparquet_to_pmtiles


@dataclass(frozen=True)
class Artifact:
    """The files of a version under releases/ and their manifest (written last: a manifest means every file is there)."""

    keys: VersionKeys
    manifest: Manifest
    reused: bool
    local_files: Mapping[str, Path] = field(default_factory=dict)  # name -> this run's local copy, when it made them

    @property
    def key(self) -> str:
        """The main data file's key."""
        return self.keys.release_file(self.manifest.primary.name)

    @property
    def manifest_key(self) -> str:
        return self.keys.manifest

    @property
    def output(self) -> OutputFacts:
        return self.manifest.output

    @property
    def files(self) -> tuple[ManifestFile, ...]:
        return self.manifest.files

    def file_key(self, name: str) -> str:
        return self.keys.release_file(name)


def load_artifact(publisher: Publisher, spec: DatasetSpec, version: str) -> Artifact | None:
    manifest = publisher.published.complete_manifest(spec.id, version)
    return Artifact(publisher.keys(spec, version), manifest, reused=True) if manifest is not None else None


def build_artifact(publisher: Publisher, spec: DatasetSpec, version: str) -> Artifact:
    existing = load_artifact(publisher, spec, version)
    if existing is not None:
        publisher.log(f"{label(spec, version)}: artifact already under releases/ (sha256 {existing.manifest.primary.sha256}); keeping it")
        return existing
    keys = publisher.keys(spec, version)
    workdir = publisher.work_dir(spec, version, "parquet")
    archived = download_archive(publisher, spec, version, workdir / "raw")
    out_path = workdir / keys.artifact_name
    try:
        result = transform(spec, version, [path for _, path in archived], out_path, publisher.log)
        products = [(result.path, ROLE_DATA)] + extra_products(spec, version, result.path, workdir, publisher.log)
    except PublicationError:
        raise
    except Exception as error:
        raise PublicationError(f"{label(spec, version)}: could not transform the upstream files: {error}") from error
    files = [manifest_file(path, role) for path, role in products]
    manifest = build_manifest(
        dataset_id=spec.id,
        version=version,
        sources=[SourceFileFacts.from_dict(facts) for facts, _ in archived],
        result=result,
        files=files,
        code_version=code_version(),
        configuration={"source": source_config(spec, version), "transform_code_version": TRANSFORM_CODE_VERSION},
        upstream_releases=covered_releases(publisher, spec, version),
    )
    artifact = publish_files(publisher, spec, version, manifest, {path.name: path for path, _ in products})
    evict({facts["sha256"] for facts, _ in archived} - {f.sha256 for f in files})  # upstream files no later step reads
    return artifact


def covered_releases(publisher: Publisher, spec: DatasetSpec, version: str) -> tuple[str, ...]:
    """The upstream releases this version covers, as the raw step recorded them (empty when not told)."""
    index = publisher.published.raw_index(spec.id, version) or {}
    return tuple(index.get("upstream_releases", ()))


def manifest_file(path: Path, role: str) -> ManifestFile:
    """The facts of a file this run made; the file joins the host's cache so the next steps need not download it."""
    digest = digest_file(path)
    admit(path, digest.sha256)
    return ManifestFile(path.name, digest.size, digest.sha256, digest.md5, media_type_for(path.name), role)


def publish_files(publisher: Publisher, spec: DatasetSpec, version: str, manifest: Manifest, local: Mapping[str, Path]) -> Artifact:
    """Every file under releases/ first, the manifest last (so a reader never finds a manifest without its files)."""
    keys = publisher.keys(spec, version)
    for f in manifest.files:
        publisher.store.put_file(keys.release_file(f.name), local[f.name], if_absent=True, content_type=f.media_type)
    publisher.store.put_bytes(keys.footprint_png, footprint_png(manifest.output.footprint or canada_polygon()), if_absent=True)
    publisher.store.put_bytes(keys.manifest, manifest.to_bytes(), if_absent=True)
    for f in manifest.files:
        publisher.log(f"{label(spec, version)}: wrote {keys.release_file(f.name)} ({f.size} bytes, sha256 {f.sha256})")
    return Artifact(keys, Manifest.from_bytes(manifest.to_bytes()), reused=False, local_files=dict(local))


def extra_products(spec: DatasetSpec, version: str, main: Path, workdir: Path, log: Callable[[str], None]) -> list[tuple[Path, str]]:
    """Files published beside the main one: the PMTiles of a boundary file (the D4C pairing)."""
    if isinstance(spec.source, StatcanBoundarySource):
        tiles = main.with_suffix(".pmtiles")
        geoparquet_to_pmtiles(main, tiles, name=spec.id, description=spec.title.en)
        log(f"{label(spec, version)}: made {tiles.name} from the same geometries ({tiles.stat().st_size} bytes)")
        return [(tiles, ROLE_TILES)]
    return []
