"""Rebuild versions: the same archived upstream files processed again under a new version key.

After a processing change (a TRANSFORM_CODE_VERSION bump) an operator decides to rebuild: the new
version `{base}.{n}` reuses `base`'s archive (never re-downloaded) and gets its own artifact, DOI
and torrent; processed/ moves to it because it sorts after `base`.

``verify_rebuild`` rebuilds a published version from its archive/ without publishing anything and says
whether the sha256 and the info-hashes match, and where the libraries differ from the manifest's, which.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from dfc_assets.code_version import TRANSFORM_CODE_VERSION
from dfc_assets.publication.context import PublicationError, Publisher, canonical_json, label
from dfc_assets.publication.raw import index_key, load_archive
from dfc_assets.registry import DatasetSpec
from dfc_assets.torrent.metainfo import build_torrent
from dfc_assets.versions import next_free_version


def prepare_rebuild(publisher: Publisher, spec: DatasetSpec, base_version: str, taken: Iterable[str]) -> str:
    archive = load_archive(publisher, spec, base_version)
    if archive is None:
        raise PublicationError(f"{label(spec, base_version)}: nothing archived, so there is nothing to rebuild from")
    taken = set(taken) | {base_version}
    version = next_free_version(base_version, taken)
    keys = publisher.keys(spec, version)
    files = []
    for facts in archive.files:
        key = keys.archive(facts["file_name"])
        publisher.store.copy(facts["key"], key)
        files.append({**facts, "key": key})
    index = {"dataset_id": spec.id, "version": version, "files": files, "rebuild_of": base_version}
    publisher.store.put_bytes(index_key(publisher, spec, version), canonical_json(index), if_absent=True)
    publisher.log(f"{label(spec, version)}: rebuild of {base_version}, archive copied ({len(files)} files)")
    return version


@dataclass(frozen=True)
class RebuildCheck:
    """A published version rebuilt from its archive/, compared with what was published."""

    dataset: str
    version: str
    environment: str                                  # "running" or "recorded"
    published_sha256: str
    rebuilt_sha256: str
    published_infohashes: tuple[str | None, str | None] | None  # (v1, v2) of the published torrent; None: no torrent
    rebuilt_infohashes: tuple[str | None, str | None] | None
    library_differences: dict[str, tuple[str | None, str | None]]  # name -> (recorded, rebuilt with)
    lock_difference: tuple[str | None, str | None] | None  # (recorded, running) lock sha256 when they differ
    code_difference: tuple[str | None, str] | None = None  # (recorded, running) TRANSFORM_CODE_VERSION when they differ

    @property
    def same_bytes(self) -> bool:
        return self.published_sha256 == self.rebuilt_sha256

    @property
    def same_infohashes(self) -> bool:
        return self.published_infohashes == self.rebuilt_infohashes

    @property
    def matches(self) -> bool:
        return self.same_bytes and self.same_infohashes

    def lines(self) -> list[str]:
        where = f"dataset {self.dataset} version {self.version}"
        lines = [f"{where}: rebuilt from archive/ in the {self.environment} environment"]
        verdict = "same" if self.same_bytes else "DIFFERENT"
        lines.append(f"  sha256 {verdict}: published {self.published_sha256}, rebuilt {self.rebuilt_sha256}")
        if self.published_infohashes is None:
            lines.append("  info-hashes: no torrent published for this version")
        else:
            verdict = "same" if self.same_infohashes else "DIFFERENT"
            lines.append(f"  info-hashes {verdict}: published {'/'.join(map(str, self.published_infohashes))}, rebuilt {'/'.join(map(str, self.rebuilt_infohashes or ()))}")
        for name, (recorded, used) in sorted(self.library_differences.items()):
            lines.append(f"  {name}: the manifest records {recorded}, the rebuild ran {used}")
        if self.lock_difference:
            recorded, running = self.lock_difference
            lines.append(f"  lock: the manifest records {f'sha256 {recorded}' if recorded else 'no lock'}, this code runs from {f'sha256 {running}' if running else 'no lock'}")
        if self.code_difference:
            lines.append(f"  TRANSFORM_CODE_VERSION: the manifest records {self.code_difference[0]}, this code is {self.code_difference[1]}")
        if not self.matches and not self.library_differences and not self.code_difference:
            lines.append("  the libraries and TRANSFORM_CODE_VERSION are the recorded ones: the processing changed without a bump, or the archive")
        if not self.matches and self.library_differences and self.environment == "running":
            lines.append("  try --recorded-environment to rebuild with the recorded versions")
        return lines


def _library_differences(recorded: dict, used: dict) -> dict[str, tuple[str | None, str | None]]:
    return {name: (recorded.get(name), used.get(name)) for name in sorted(set(recorded) | set(used)) if recorded.get(name) != used.get(name)}


def verify_rebuild(
    publisher: Publisher, spec: DatasetSpec, version: str, *, recorded_environment: bool = False, offline: bool = False,
) -> RebuildCheck:
    """Rebuild ``version`` from archive/ (in this process, or in a throwaway environment from the manifest's pins)
    and compare its sha256 and its torrent's info-hashes with the published ones. Publishes nothing."""
    from dfc_assets.dependency_lock import lock_facts
    from dfc_assets.publication.artifact import transform
    from dfc_assets.publication.raw import download_archive
    from dfc_assets.publication.torrent import load_torrent, torrent_options
    from dfc_assets.transform.manifest import library_versions

    keys = publisher.keys(spec, version)
    manifest = publisher.published.manifest(spec.id, version)
    if manifest is None:
        raise PublicationError(f"{label(spec, version)}: no manifest at {keys.manifest}; nothing published to verify")
    work = publisher.work_dir(spec, version, "rebuild-verify")
    files = [path for _, path in download_archive(publisher, spec, version, work / "raw")]
    out_path = work / "out" / keys.artifact_name
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.unlink(missing_ok=True)
    recorded = dict(manifest.libraries)
    if recorded_environment:
        from dfc_assets.publication.rebuild_environment import RecordedEnvironmentError, make_recorded_environment

        with tempfile.TemporaryDirectory(prefix="environment-", dir=work) as throwaway:
            try:
                environment = make_recorded_environment(recorded, Path(throwaway), offline=offline)
                request = {"version": version, "files": [str(f) for f in files], "out": str(out_path)}
                answer = environment.run_transform(request, spec, Path(throwaway))
            except RecordedEnvironmentError as error:
                raise PublicationError(f"{label(spec, version)}: {error}") from None
        rebuilt_sha256, used = answer["sha256"], answer["libraries"]
    else:
        result = transform(spec, version, files, out_path, publisher.log)
        rebuilt_sha256, used, out_path = result.sha256, library_versions(), result.path
    published, rebuilt = None, None
    torrent = load_torrent(publisher, spec, version)
    if torrent is not None:
        published = (torrent.info.infohash_v1, torrent.info.infohash_v2)
        options = replace(
            torrent_options(publisher, spec, version, doi=""),
            flavour="hybrid" if torrent.info.infohash_v2 else "v1", piece_size=torrent.info.piece_size,
        )
        built = build_torrent(out_path, name=torrent.info.name, options=options, md5=False, sha256=False)
        rebuilt = (built.infohash_v1, built.infohash_v2)
    recorded_lock, running_lock = (manifest.lock or {}).get("sha256"), (lock_facts() or {}).get("sha256")
    recorded_code = (manifest.configuration or {}).get("transform_code_version")
    check = RebuildCheck(
        dataset=spec.key, version=version, environment="recorded" if recorded_environment else "running",
        published_sha256=manifest.primary.sha256, rebuilt_sha256=rebuilt_sha256,
        published_infohashes=published, rebuilt_infohashes=rebuilt,
        library_differences=_library_differences(recorded, used),
        lock_difference=(recorded_lock, running_lock) if recorded_lock != running_lock else None,
        code_difference=(recorded_code, TRANSFORM_CODE_VERSION) if recorded_code != TRANSFORM_CODE_VERSION else None,
    )
    for line in check.lines():
        publisher.log(line)
    return check
