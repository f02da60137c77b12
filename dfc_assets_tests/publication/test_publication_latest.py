"""processed/: aliases first, pointer last. A writer killed (SIGKILL) between any two writes leaves a store in
which a reader going through the pointer never sees a file and the pointer disagree, and the next promotion
finishes the move."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dfc_assets.publication.latest import promote_latest
from dfc_assets.publication.published import Published
from dfc_assets.storage import VersionKeys

from .published_versions import SPEC, make_publisher, put_version

WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from dfc_assets.publication.latest import promote_latest
    from dfc_assets_tests.publication.published_versions import SPEC, make_publisher

    root, version, die_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    publisher = make_publisher(root, root.parent / "scratch")
    store, writes = publisher.store, [0]

    def dying(method):
        def write(*args, **kwargs):
            if writes[0] == die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            writes[0] += 1
            return method(*args, **kwargs)
        return write

    for name in ("copy", "put_bytes", "put_file", "delete"):
        setattr(store, name, dying(getattr(store, name)))
    promote_latest(publisher, SPEC, version)
    print(writes[0])
""")
REPO = Path(__file__).resolve().parents[2]


def run_writer(root: Path, version: str, die_at: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WRITER, str(root), version, str(die_at)], cwd=REPO, capture_output=True, text=True)


def assert_pointer_agrees(root: Path) -> str:
    """What our readers do: the pointer, then the release keys it names, each with the pointer's sha256."""
    published = Published(make_publisher(root, root.parent / "scratch").store)
    pointer = published.latest(SPEC.id)
    assert pointer is not None
    for f in pointer.files:
        assert hashlib.sha256(published.store.get_bytes(f.release_key)).hexdigest() == f.sha256
        assert f.release_key == VersionKeys(SPEC.id, pointer.version).release_file(f.name)
    return pointer.version


def assert_aliases_agree(root: Path) -> None:
    published = Published(make_publisher(root, root.parent / "scratch").store)
    pointer = published.latest(SPEC.id)
    assert published.stale_aliases(SPEC.id) == []
    for f in pointer.files:
        assert hashlib.sha256(published.store.get_bytes(f.processed_key)).hexdigest() == f.sha256
    listed = {info.key for info in published.store.list(f"processed/{SPEC.id}.")}
    assert listed == {f.processed_key for f in pointer.files} | {f"processed/{SPEC.id}.json"}


@pytest.fixture
def base(tmp_path) -> Path:
    """Version 2016 (GeoParquet + PMTiles) served by processed/; 2021 (both) and 2022 (GeoParquet only) published."""
    root = tmp_path / "base" / "store"
    publisher = make_publisher(root, tmp_path / "scratch")
    put_version(publisher, "2016", {"parquet": b"parquet 2016", "pmtiles": b"tiles 2016"})
    put_version(publisher, "2021", {"parquet": b"parquet 2021 longer", "pmtiles": b"tiles 2021 longer"})
    put_version(publisher, "2022", {"parquet": b"parquet 2022"})
    assert promote_latest(publisher, SPEC, "2016")
    return root


@pytest.mark.parametrize("version, writes", [("2021", 3), ("2022", 3)])  # copies, pointer, then deletes of orphans
def test_a_writer_killed_between_any_two_writes(base, tmp_path, version, writes):
    untouched = tmp_path / "complete" / "store"
    shutil.copytree(base, untouched)
    complete = run_writer(untouched, version, 10_000)
    assert complete.returncode == 0, complete.stderr
    assert int(complete.stdout.strip()) == writes
    for die_at in range(writes):
        root = tmp_path / f"killed-{die_at}" / "store"
        shutil.copytree(base, root)
        killed = run_writer(root, version, die_at)
        assert killed.returncode == -9, (die_at, killed.stderr)
        seen = assert_pointer_agrees(root)
        assert seen in ("2016", version)
        rerun = make_publisher(root, tmp_path / "scratch")
        promote_latest(rerun, SPEC, version)
        assert assert_pointer_agrees(root) == version
        assert_aliases_agree(root)


def test_promotion_moves_only_forward_and_drops_files_the_new_version_lacks(base, tmp_path):
    publisher = make_publisher(base, tmp_path / "scratch")
    assert promote_latest(publisher, SPEC, "2022")
    assert not promote_latest(publisher, SPEC, "2021")  # older than what processed/ serves
    assert Published(publisher.store).latest_version(SPEC.id) == "2022"
    assert publisher.store.head(f"processed/{SPEC.id}.pmtiles") is None
    assert publisher.store.get_bytes(f"processed/{SPEC.id}.parquet") == b"parquet 2022"
    assert_aliases_agree(base)
    assert not promote_latest(publisher, SPEC, "2022")  # nothing to do


def test_a_stale_alias_is_reported_and_repaired(base, tmp_path):
    publisher = make_publisher(base, tmp_path / "scratch")
    publisher.store.put_bytes(f"processed/{SPEC.id}.parquet", b"something else entirely")
    published = Published(publisher.store)
    assert published.stale_aliases(SPEC.id) == [f"processed/{SPEC.id}.parquet"]
    assert promote_latest(publisher, SPEC, "2016")
    assert_aliases_agree(base)


FILES_WRITER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from dfc_assets.publication.artifact import manifest_file, publish_files
    from dfc_assets.transform.manifest import OutputFacts, build_manifest
    from dfc_assets_tests.publication.published_versions import SPEC, make_publisher

    root, folder, die_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    publisher = make_publisher(root, root.parent / "scratch")
    store, writes = publisher.store, [0]

    def dying(method):
        def write(*args, **kwargs):
            if writes[0] == die_at:
                os.kill(os.getpid(), signal.SIGKILL)
            writes[0] += 1
            return method(*args, **kwargs)
        return write

    for name in ("put_bytes", "put_file"):
        setattr(store, name, dying(getattr(store, name)))
    files = [manifest_file(folder / name, role) for name, role in ((sys.argv[4], "data"), (sys.argv[5], "tiles"))]
    output = OutputFacts(files[0].name, files[0].sha256, files[0].size, rows=1)
    manifest = build_manifest(dataset_id=SPEC.id, version="2021", sources=[], output=output, files=files, code_version="c", configuration={})
    publish_files(publisher, SPEC, "2021", manifest, {f.name: folder / f.name for f in files})
    print(writes[0])
""")


def test_a_manifest_is_never_seen_without_its_files(tmp_path):
    """The parquet step writes every file, then the manifest: killed at any write, a reader sees all or nothing."""
    keys = VersionKeys(SPEC.id, "2021")
    folder = tmp_path / "made"
    folder.mkdir()
    names = (keys.file_name("parquet"), keys.file_name("pmtiles"))
    (folder / names[0]).write_bytes(b"geoparquet bytes")
    (folder / names[1]).write_bytes(b"pmtiles bytes")
    env_cache = str(tmp_path / "cache")

    def run(root: Path, die_at: int) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", FILES_WRITER, str(root), str(folder), str(die_at), *names], cwd=REPO,
                              capture_output=True, text=True, env={**__import__("os").environ, "DFC_CACHE_DIR": env_cache})

    complete = run(tmp_path / "complete" / "store", 10_000)
    assert complete.returncode == 0, complete.stderr
    writes = int(complete.stdout.strip())
    assert writes == 4  # two files, the footprint, the manifest
    for die_at in range(writes):
        root = tmp_path / f"killed-{die_at}" / "store"
        killed = run(root, die_at)
        assert killed.returncode == -9, (die_at, killed.stderr)
        version = Published(make_publisher(root, tmp_path / "scratch").store).version(SPEC.id, "2021")
        assert version.manifest is None and not version.has_files
    whole = Published(make_publisher(tmp_path / "complete" / "store", tmp_path / "scratch").store).version(SPEC.id, "2021")
    assert whole.has_files and [f.name for f in whole.files] == list(names)
