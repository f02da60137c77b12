"""Step `parquet`: the files of a version under releases/ (the deterministic Parquet/GeoParquet, its PMTiles for
boundaries), and the build manifest beside them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dfc_assets.code_version import TRANSFORM_CODE_VERSION, code_version
from dfc_assets.publication.context import PublicationError, Publisher, label
from dfc_assets.publication.dataset_lease import done_or_do
from dfc_assets.publication.footprint_png import canada_polygon, footprint_png
from dfc_assets.publication.raw import download_archive
from dfc_assets.publication.scratch import admit, evict, record_contiguous, record_digests, recorded_digests
from dfc_assets.registry import DatasetSpec, StatcanBoundarySource
from dfc_assets.sources.kinds import source_config, transform
from dfc_assets.storage import VersionKeys
from dfc_assets.storage.digests import FileDigest, digest_file, known_digest, remember
from dfc_assets.storage.hashed_copy import put_file_hashed
from dfc_assets.storage.media_types import media_type_for
from dfc_assets.torrent.hashing import ContiguousPieces, FileDigests
from dfc_assets.torrent.options import piece_size_for
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
    """The version's files and manifest under releases/, or those already there (one publisher of the dataset at a
    time: ``dataset_lease``)."""
    def built() -> Artifact | None:
        existing = load_artifact(publisher, spec, version)
        if existing is not None:
            publisher.log(f"{label(spec, version)}: artifact already under releases/ (sha256 {existing.manifest.primary.sha256}); keeping it")
        return existing

    return done_or_do(publisher, spec, version, "parquet", built, lambda: _transform_and_store(publisher, spec, version))


def _transform_and_store(publisher: Publisher, spec: DatasetSpec, version: str) -> Artifact:
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
    files = store_products(publisher, spec, version, products, archived, sha256s={result.path.name: result.sha256})
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
    artifact = publish_files(publisher, spec, version, manifest, {path.name: path for path, _ in products}, stored=True)
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


def store_products(publisher: Publisher, spec: DatasetSpec, version: str, products: list[tuple[Path, str]],
                   archived: list[tuple[dict, Path]], *, sha256s: Mapping[str, str] = {}) -> list[ManifestFile]:
    """Each file of the version under releases/, read once: copied into the store while its manifest facts
    (sha256, md5) and its torrent hashes are computed (kept in the host cache for the torrent step).

    A prebuilt file is the archived upstream file itself: when the raw step hashed it while archiving it, the
    store copies its object (a hard link in a folder, a server-side copy in S3) and nothing is read.
    ``sha256s``: by file name, the sha256 the transform computed from the file it wrote (spares that hash)."""
    keys, store = publisher.keys(spec, version), publisher.store
    hybrid = publisher.settings.torrent_flavour == "hybrid"
    piece_size = piece_size_for(sum(path.stat().st_size for path, _ in products))
    several = len(products) > 1
    chain = ContiguousPieces(piece_size) if several else None  # the v1 torrent's pieces run across the files
    archived_keys = {facts["sha256"]: facts["key"] for facts, _ in archived}
    facts: dict[str, ManifestFile] = {}
    for path, role in sorted(products, key=lambda product: product[0].name):
        key, media_type = keys.release_file(path.name), media_type_for(path.name)
        digests = _archived_copy(store, key, path, archived_keys, piece_size, v2=hybrid) if not several else None
        if digests is None:
            digests = put_file_hashed(store, key, path, piece_size=piece_size, v2=hybrid, contiguous=chain,
                                      content_type=media_type, sha256=sha256s.get(path.name))
            record_digests(digests)
        remember(path, FileDigest(digests.size, digests.sha256, digests.md5))  # type: ignore[arg-type]
        admit(path, digests.sha256)  # type: ignore[arg-type]
        facts[path.name] = ManifestFile(path.name, digests.size, digests.sha256, digests.md5, media_type, role)  # type: ignore[arg-type]
    if chain is not None:
        record_contiguous([(name, f.sha256) for name, f in sorted(facts.items())], piece_size, chain.finish())
    return [facts[path.name] for path, _ in products]


def _archived_copy(store, key: str, path: Path, archived_keys: Mapping[str, str], piece_size: int, *, v2: bool) -> FileDigests | None:
    """The digests of a file whose bytes the store already holds under archive/, after copying that object to
    ``key``; None when the file must be read (not archived as it is, hashes not recorded here, key present)."""
    known = known_digest(path)
    if known is None or known.sha256 not in archived_keys or store.head(key) is not None:
        return None
    digests = recorded_digests(known.sha256, known.size, piece_size, v2=v2)
    if digests is None:
        return None
    store.copy(archived_keys[known.sha256], key)
    return digests


def publish_files(publisher: Publisher, spec: DatasetSpec, version: str, manifest: Manifest, local: Mapping[str, Path],
                  *, stored: bool = False) -> Artifact:
    """Every file under releases/ first (``stored``: already there, by ``store_products``), the manifest last (so a
    reader never finds a manifest without its files)."""
    keys = publisher.keys(spec, version)
    for f in manifest.files if not stored else ():
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
