"""Step `parquet`: the deterministic Parquet/GeoParquet artifact under releases/, and its build manifest beside it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dfc_assets.code_version import TRANSFORM_CODE_VERSION, code_version
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.footprint_png import canada_polygon, footprint_png
from dfc_assets.publication.raw import download_archive
from dfc_assets.registry import (
    CensusProfileSource, DatasetSpec, HttpFileSource, StatcanBoundarySource, StatcanTableSource, VectorOptions,
)
from dfc_assets.sources import CUBE_METADATA_SUFFIX
from dfc_assets.transform.census_profile import census_profile_to_parquet
from dfc_assets.transform.manifest import SourceFileFacts, build_manifest, manifest_bytes
from dfc_assets.transform.result import TransformResult
from dfc_assets.transform.statcan_table import statcan_table_to_parquet
from dfc_assets.transform.tabular_file import csv_file_to_parquet, is_geoparquet, parquet_file_to_parquet
from dfc_assets.transform.vector import vector_zip_to_geoparquet
from dfc_assets.transform.vector_file import vector_file_to_geoparquet


@dataclass(frozen=True)
class Artifact:
    key: str
    manifest_key: str
    manifest: dict
    reused: bool

    @property
    def output(self) -> dict:
        return self.manifest["output"]


def load_artifact(publisher: Publisher, spec: DatasetSpec, version: str) -> Artifact | None:
    keys = publisher.keys(spec, version)
    manifest = publisher.read_json(keys.manifest)
    if manifest is None or publisher.store.head(keys.artifact) is None:
        return None
    return Artifact(keys.artifact, keys.manifest, manifest, reused=True)


def build_artifact(publisher: Publisher, spec: DatasetSpec, version: str) -> Artifact:
    existing = load_artifact(publisher, spec, version)
    if existing is not None:
        publisher.log(f"{label(spec, version)}: artifact already under releases/ (sha256 {existing.output['sha256']}); keeping it")
        return existing
    keys = publisher.keys(spec, version)
    workdir = publisher.work_dir(spec, version, "parquet")
    archived = download_archive(publisher, spec, version, workdir / "raw")
    out_path = workdir / keys.artifact_name
    try:
        result = transform(spec, version, [path for _, path in archived], out_path, publisher.log)
    except PublicationError:
        raise
    except Exception as error:
        raise PublicationError(f"{label(spec, version)}: could not transform the upstream files: {error}") from error
    manifest = build_manifest(
        dataset_id=spec.id,
        version=version,
        sources=[SourceFileFacts(**{k: facts[k] for k in ("url", "file_name", "sha256", "size", "etag", "last_modified", "retrieved_at")}) for facts, _ in archived],
        result=result,
        code_version=code_version(),
        configuration={"source": _source_config(spec, version), "transform_code_version": TRANSFORM_CODE_VERSION},
    )
    if result.footprint is not None:
        manifest["output"]["footprint"] = result.footprint
    publisher.store.put_file(keys.artifact, out_path, if_absent=True)
    publisher.store.put_bytes(keys.manifest, manifest_bytes(manifest), if_absent=True)
    publisher.store.put_bytes(keys.footprint_png, footprint_png(manifest["output"].get("footprint") or canada_polygon()), if_absent=True)
    publisher.log(f"{label(spec, version)}: wrote {keys.artifact} ({result.rows} rows, {result.size} bytes, sha256 {result.sha256})")
    return Artifact(keys.artifact, keys.manifest, json.loads(manifest_bytes(manifest)), reused=False)


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
