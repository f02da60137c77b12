"""Step `parquet`: the files of a version under releases/ (the deterministic Parquet/GeoParquet, its PMTiles for
boundaries), and the build manifest beside them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dfc_assets.code_version import TRANSFORM_CODE_VERSION, code_version
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.footprint_png import canada_polygon, footprint_png
from dfc_assets.publication.raw import download_archive
from dfc_assets.publication.scratch import admit
from dfc_assets.registry import (
    CensusProfileSource, DatasetSpec, HttpFileSource, StatcanBoundarySource, StatcanTableSource, VectorOptions,
)
from dfc_assets.sources import CUBE_METADATA_SUFFIX
from dfc_assets.transform.census_profile import census_profile_to_parquet
from dfc_assets.storage import VersionKeys
from dfc_assets.storage.digests import digest_file
from dfc_assets.storage.media_types import media_type_for
from dfc_assets.transform.manifest import ROLE_DATA, ROLE_TILES, Manifest, ManifestFile, OutputFacts, SourceFileFacts, build_manifest
from dfc_assets.transform.pmtiles import geoparquet_to_pmtiles
from dfc_assets.transform.result import TransformResult
from dfc_assets.transform.statcan_table import statcan_table_to_parquet
from dfc_assets.transform.tabular_file import csv_file_to_parquet, is_geoparquet, parquet_file_to_parquet
from dfc_assets.transform.vector import vector_zip_to_geoparquet
from dfc_assets.transform.vector_file import vector_file_to_geoparquet


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
    published = publisher.published.version(spec.id, version)
    if not published.has_files:
        return None
    return Artifact(published.keys, published.manifest, reused=True)  # type: ignore[arg-type]


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
        products = [(out_path, ROLE_DATA)] + extra_products(spec, version, out_path, workdir, publisher.log)
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
        configuration={"source": _source_config(spec, version), "transform_code_version": TRANSFORM_CODE_VERSION},
    )
    return publish_files(publisher, spec, version, manifest, {path.name: path for path, _ in products})


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


def _vector_options(options: VectorOptions) -> dict:
    return {"invalid_geometries": options.invalid_geometries, "normalise_names": options.normalise_names, "promote_to_multi": options.promote_to_multi}


def transform(spec: DatasetSpec, version: str, files: list[Path], out_path: Path, log: Callable[[str], None]) -> TransformResult:
    """Run the dataset's transform on the archived files of ``version`` with the registry's options."""
    source = spec.source
    if isinstance(source, StatcanTableSource):
        zips = [path for path in files if path.suffix == ".zip"]
        metadata_files = [path for path in files if path.name.endswith(CUBE_METADATA_SUFFIX)]
        if not zips:
            raise PublicationError(f"{label(spec, version)}: no CSV zip among the archived files")
        cube_metadata = json.loads(metadata_files[0].read_text(encoding="utf-8")) if metadata_files else None
        return statcan_table_to_parquet(
            zips[0], out_path, product_id=source.product_id, cube_metadata=cube_metadata,
            fiscal_year_start_month=source.fiscal_year_start_month, ragged_rows=source.ragged_rows, log=log,
        )
    if isinstance(source, StatcanBoundarySource):
        _, layer, encoding = source.for_version(version)
        return vector_zip_to_geoparquet(files[0], out_path, layer=layer, encoding=encoding, log=log, **_vector_options(source.vector))
    if isinstance(source, CensusProfileSource):
        _, _, encoding = source.for_version(version)
        return census_profile_to_parquet(
            files[0], out_path, dataset=label(spec, version), members=list(source.members) or None,
            encoding=encoding or "latin-1", ragged_rows=source.ragged_rows, log=log,
        )
    if isinstance(source, HttpFileSource):
        _, layer, encoding = source.for_version(version)
        path = files[0]
        if source.format == "csv":
            return csv_file_to_parquet(path, out_path, encoding=encoding or "utf-8", ragged_rows=source.ragged_rows, log=log)
        if source.format == "parquet" and not is_geoparquet(path):
            return parquet_file_to_parquet(path, out_path, log=log)
        file_format = "geoparquet" if source.format == "parquet" else source.format
        return vector_file_to_geoparquet(
            path, out_path, file_format=file_format, layer=layer, encoding=encoding, log=log, **_vector_options(source.vector),
        )
    raise PublicationError(f"{label(spec, version)}: unsupported source kind {source.kind!r}")


def _source_config(spec: DatasetSpec, version: str) -> dict:
    """The source configuration that shaped this version (not the whole registry entry)."""
    source = spec.source
    if isinstance(source, StatcanTableSource):
        return {
            "kind": source.kind, "product_id": source.product_id, "languages": list(source.languages),
            "fiscal_year_start_month": source.fiscal_year_start_month, "ragged_rows": source.ragged_rows,
        }
    url, layer, encoding = source.for_version(version)
    config = {"kind": source.kind, "url": url or source.url, "layer": layer, "encoding": encoding}
    if isinstance(source, StatcanBoundarySource):
        config.update(_vector_options(source.vector))
    elif isinstance(source, CensusProfileSource):
        config.update({"encoding": encoding or "latin-1", "members": list(source.members), "ragged_rows": source.ragged_rows})
    elif isinstance(source, HttpFileSource):
        config["format"] = source.format
        if source.format == "csv":
            config.update({"encoding": encoding or "utf-8", "ragged_rows": source.ragged_rows})
        else:
            config.update(_vector_options(source.vector))
    return config
