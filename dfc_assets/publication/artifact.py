"""Step `parquet`: the deterministic Parquet/GeoParquet artifact under releases/, and its build manifest beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from dfc_assets.code_version import TRANSFORM_CODE_VERSION, code_version
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.footprint_png import canada_polygon, footprint_png
from dfc_assets.publication.raw import download_archive
from dfc_assets.registry import DatasetSpec, StatcanBoundarySource, StatcanTableSource
from dfc_assets.sources import CUBE_METADATA_SUFFIX
from dfc_assets.transform.manifest import SourceFileFacts, build_manifest, manifest_bytes
from dfc_assets.transform.statcan_table import statcan_table_to_parquet
from dfc_assets.transform.vector import vector_zip_to_geoparquet


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
    source = spec.source
    try:
        if isinstance(source, StatcanTableSource):
            zips = [path for facts, path in archived if path.suffix == ".zip"]
            metadata_files = [path for facts, path in archived if path.name.endswith(CUBE_METADATA_SUFFIX)]
            if not zips:
                raise PublicationError(f"{label(spec, version)}: no CSV zip among the archived files")
            cube_metadata = json.loads(metadata_files[0].read_text(encoding="utf-8")) if metadata_files else None
            result = statcan_table_to_parquet(zips[0], out_path, product_id=source.product_id, cube_metadata=cube_metadata, log=publisher.log)
        elif isinstance(source, StatcanBoundarySource):
            _, layer, encoding = source.for_version(version)
            result = vector_zip_to_geoparquet(archived[0][1], out_path, layer=layer, encoding=encoding, log=publisher.log)
        else:
            raise PublicationError(f"{label(spec, version)}: unsupported source kind {source.kind!r}")
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


def _source_config(spec: DatasetSpec, version: str) -> dict:
    """The source configuration that shaped this version (not the whole registry entry)."""
    source = spec.source
    if isinstance(source, StatcanTableSource):
        return {"kind": source.kind, "product_id": source.product_id, "languages": list(source.languages)}
    url, layer, encoding = source.for_version(version)
    return {"kind": source.kind, "url": url or source.url, "layer": layer, "encoding": encoding}
