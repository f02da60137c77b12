"""`dfc backfill` and `dfc rebuild`: old versions and rebuild versions, through a webserver or on the embedded default."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dfc_assets.cli.rebuild_verify import add_verify_arguments
from dfc_assets.partitions import ASSET_NAMES, dataset_run_tags, partition_key, partitions_name, shard_of
from dfc_assets.registry import DatasetSpec, load_registry
from dfc_assets.versions import sort_versions, validate_version_key


def find_dataset(name: str) -> DatasetSpec:
    for spec in load_registry():
        if name in (spec.key, spec.id):
            return spec
    known = ", ".join(spec.key for spec in load_registry())
    raise SystemExit(f"dfc: unknown dataset {name!r}; registry datasets: {known}")


def _through_webserver(url: str, spec: DatasetSpec, versions: list[str], wait: bool, trigger: str) -> int:
    from dfc_assets.cli.dagster_api import DagsterApi

    api = DagsterApi(url)
    shard = shard_of(spec)
    keys = [partition_key(spec.key, version) for version in versions]
    for key in keys:
        api.add_partition(partitions_name(shard), key)
    tags = {**dataset_run_tags(keys, shard), "dfc/trigger": trigger}
    backfill_id = api.launch_backfill([[shard, name] for name in ASSET_NAMES], keys, tags)
    print(f"backfill {backfill_id} of {spec.key} versions {', '.join(versions)}: {url.rstrip('/')}/runs/b/{backfill_id}", flush=True)
    if not wait:
        return 0
    status = api.wait_for_backfill(backfill_id, timeout=3600)
    print(f"backfill {backfill_id}: {status}")
    return 0 if status == "COMPLETED_SUCCESS" else 1


def _embedded(workdir: Path, spec: DatasetSpec, versions: list[str]) -> int:
    from dfc_assets.cli.embedded import embedded

    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    with embedded(workdir, say) as run:
        todo = run.unfinished([(spec, version) for version in versions])
        if len(todo) < len(versions):
            done = [version for version in versions if (spec, version) not in todo]
            say(f"{spec.key}: {len(done)} version(s) already published (every step done): {', '.join(done)}")
        failures = run.publish_many(todo, progress=lambda batch: say(f"publishing {batch} ..."))
        catalog_failure = run.build_catalog()
    for failure in failures + ([catalog_failure] if catalog_failure else []):
        print(f"FAILED: {failure}")
    return 1 if failures or catalog_failure else 0


def backfill(args: argparse.Namespace) -> int:
    spec = find_dataset(args.dataset)
    versions = sort_versions({validate_version_key(v, dataset=spec.key) for v in args.versions})
    if args.webserver:
        return _through_webserver(args.webserver, spec, versions, args.wait, "backfill")
    return _embedded(args.workdir, spec, versions)


def rebuild(args: argparse.Namespace) -> int:
    from dfc_assets.defs.resources import PublisherResource
    from dfc_assets.publication.rebuild import prepare_rebuild
    from dfc_assets.services.local_stack import SERVICES_FILE

    spec = find_dataset(args.dataset)
    if args.verify:
        from dfc_assets.cli.rebuild_verify import verify

        return verify(args, spec)
    if not args.webserver:
        import os

        os.environ.setdefault("DFC_SERVICES_FILE", str(Path(args.workdir).resolve() / SERVICES_FILE))
    with PublisherResource().open(print) as publisher:
        taken = set(publisher.published.known_versions(spec.id))
        version = prepare_rebuild(publisher, spec, args.base_version, taken)
    print(f"rebuild version {version} of {spec.key} (from {args.base_version})", flush=True)
    if args.webserver:
        return _through_webserver(args.webserver, spec, [version], args.wait, "rebuild")
    return _embedded(args.workdir, spec, [version])


def register(commands, default_workdir: Path) -> None:
    for name, handler, help_text in (
        ("backfill", backfill, "publish old versions of a dataset (rebuilt from archive/ or per-version registry sources)"),
        ("rebuild", rebuild, "create and publish a rebuild version from an archived version (after a processing change)"),
    ):
        parser = commands.add_parser(name, help=help_text)
        parser.add_argument("dataset", help="dataset key or D4C id")
        if name == "backfill":
            parser.add_argument("versions", nargs="+", help="version keys")
        else:
            parser.add_argument("base_version", help="the archived version to rebuild")
            add_verify_arguments(parser)
        parser.add_argument("--webserver", help="launch through this Dagster webserver (the daemon runs it), e.g. http://127.0.0.1:3000")
        parser.add_argument("--workdir", type=Path, default=default_workdir, help="otherwise: run in process on the embedded default of this folder")
        parser.add_argument("--wait", action="store_true", help="with --webserver: wait until the backfill ends")
        parser.set_defaults(run=handler)
