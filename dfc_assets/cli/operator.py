"""`dfc status`, `dfc versions DATASET`, `dfc verify DATASET VERSION`: what an operator asks without opening the UI.

They read the deployment named by the environment (DFC_*; see README) or, with --workdir, the local services of
that folder. Long work shows a progress bar on a terminal and plain progress lines otherwise (logs, CI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from dfc_assets.publication.context import Publisher
from dfc_assets.publication.status import (
    DatasetStatus,
    VersionStatus,
    catalog_lag,
    dataset_status,
    dataset_versions,
    verification_steps,
    verify_version,
)
from dfc_assets.registry import DatasetSpec, UnknownDataset, dataset_named, registered_datasets


class Steps:
    """Progress over a known number of steps: a tqdm bar on a terminal, one line per step elsewhere."""

    def __init__(self, total: int, title: str, stream: TextIO | None = None) -> None:
        self.total, self.title, self.done = total, title, 0
        self.stream = stream or sys.stderr
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=title, unit="step", file=self.stream, leave=False, mininterval=0)

    def __call__(self, step: str) -> None:
        if self.bar is not None:
            if self.done:
                self.bar.update(1)
            self.bar.set_postfix_str(step)
        else:
            print(f"{self.title}: [{self.done + 1}/{self.total}] {step}", file=self.stream, flush=True)
        self.done += 1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.total - self.bar.n)
            self.bar.refresh()
            self.bar.close()


@contextmanager
def open_publisher(workdir: Path | None) -> Iterator[Publisher]:
    """A read-only view of the deployment: settings, object store and an HTTP client (no Zenodo token needed)."""
    import httpx

    from dfc_assets.defs.resources import USER_AGENT, object_store
    from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices, running_services
    from dfc_assets.settings import load_settings

    environ = dict(os.environ)
    with ExitStack() as stack:
        if workdir is not None:
            environ["DFC_SERVICES_FILE"] = str(Path(workdir).resolve() / SERVICES_FILE)
            if running_services(workdir) is None and (Path(workdir) / "store").is_dir():
                stack.enter_context(LocalServices(workdir))  # same ports as before: published URLs stay valid
        settings = load_settings(environ)
        scratch = Path(tempfile.mkdtemp(prefix="dfc-operator-"))
        stack.callback(shutil.rmtree, scratch, True)
        http = stack.enter_context(httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), headers={"User-Agent": USER_AGENT}, follow_redirects=True))
        yield Publisher(settings=settings, store=object_store(settings), http=http, zenodo=None, scratch=scratch)  # type: ignore[arg-type]


DEFAULT_WORKDIR = Path(".dfc")
PRODUCTION_VARIABLES = ("DFC_SERVICES_FILE", "DFC_S3_BUCKET", "DFC_STORE")


def deployment(args: argparse.Namespace) -> Path | None:
    """--workdir if given; else the production store when its variables are set; else the embedded default .dfc."""
    if args.workdir is not None:
        workdir = args.workdir
    elif any(os.environ.get(name) for name in PRODUCTION_VARIABLES):
        return None
    else:
        workdir = DEFAULT_WORKDIR
    if not (Path(workdir) / "store").is_dir() and running_services_file(workdir) is None:
        from dfc_assets.settings import SettingsError

        raise SettingsError(f"nothing is published in {workdir}: no {Path(workdir) / 'store'} (run `make demo` or `dfc demo --workdir {workdir}`, "
                            f"or set {' or '.join(PRODUCTION_VARIABLES[1:])} for the production store)")
    return Path(workdir)


def running_services_file(workdir: Path) -> Path | None:
    from dfc_assets.services.local_stack import SERVICES_FILE

    path = Path(workdir) / SERVICES_FILE
    return path if path.is_file() else None


def find_dataset(name: str, store) -> DatasetSpec:
    """A dataset by key or D4C id: an individual entry, or a member of a collection (from the store's cube list)."""
    try:
        return dataset_named(store, name)
    except UnknownDataset as error:
        keys = [spec.key for spec in registered_datasets(store)]
        known = ", ".join(keys[:20]) + (f" and {len(keys) - 20} more" if len(keys) > 20 else "")
        raise SystemExit(f"dfc: {error}; known: {known}") from None


def _version_line(row: VersionStatus) -> str:
    marker = "*" if row.is_latest else " "
    doi = row.doi or "-"
    size = f"{row.size} bytes" if row.size is not None else "-"
    return f"{marker} {row.version}  {row.state}  DOI {doi}  sha256 {row.sha256 or '-'}  {size}  btih {row.infohash_v1 or '-'}"


def _status_lines(status: DatasetStatus) -> list[str]:
    if status.latest is None:
        return [f"{status.dataset}  nothing published yet"]
    latest = status.latest
    healthy = sum(m.ok for m in status.mirrors)
    mirrors = f"mirrors {healthy}/{len(status.mirrors)} healthy" if status.mirrors else "mirrors not checked"
    lines = [f"{status.dataset}  latest {latest.version} ({latest.state})  DOI {latest.doi or '-'}  {status.versions} version(s)  {mirrors}"]
    lines += [f"    mirror FAILING {m.url}: {m.reason}" for m in status.mirrors if not m.ok]
    lines += [f"    processed/ STALE {key}: disagrees with processed/{status.dataset_id}.json (rerun stac_item of {latest.version})"
              for key in status.stale_aliases]
    return lines


def _status_json(status: DatasetStatus) -> dict:
    data = asdict(status)
    data["healthy"] = status.healthy
    return data


def run_status(args: argparse.Namespace) -> int:
    with open_publisher(deployment(args)) as publisher:
        specs = registered_datasets(publisher.store)
        steps = Steps(len(specs) + 1, "status")
        statuses = []
        for spec in specs:
            steps(spec.key)
            statuses.append(dataset_status(publisher, spec, check_mirrors=not args.no_mirrors))
        steps("catalog and feed")
        lag = catalog_lag(publisher, specs)
        steps.close()
    if args.json:
        print(json.dumps({"datasets": [_status_json(s) for s in statuses], "catalog": asdict(lag) | {"ok": lag.ok}}, indent=2))
    else:
        for status in statuses:
            print("\n".join(_status_lines(status)))
        print("\n".join(lag.lines()))
    return 0 if all(s.healthy or s.latest is None for s in statuses) and lag.ok else 1


def run_versions(args: argparse.Namespace) -> int:
    with open_publisher(deployment(args)) as publisher:
        spec = find_dataset(args.dataset, publisher.store)
        rows = dataset_versions(publisher, spec)
    if args.json:
        print(json.dumps({"dataset": spec.key, "dataset_id": spec.id, "versions": [asdict(r) | {"state": r.state} for r in rows]}, indent=2))
    elif not rows:
        print(f"{spec.key}: nothing published yet")
    else:
        print(f"{spec.key} ({spec.id}): {len(rows)} version(s), * = served under processed/")
        for row in rows:
            print(_version_line(row))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    with open_publisher(deployment(args)) as publisher:
        spec = find_dataset(args.dataset, publisher.store)
        try:
            steps = Steps(verification_steps(publisher, spec, args.version), f"verify {spec.key} {args.version}")
            result = verify_version(publisher, spec, args.version, progress=steps)
            steps.close()
        except LookupError as error:
            print(f"dfc verify: {error}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps({"dataset": spec.key, "version": args.version, "passed": result.passed,
                          "checks": [{"name": name, "passed": f.passed, "description": f.description, "details": f.details} for name, f in result.checks]}, indent=2))
    else:
        for name, fixity in result.checks:
            print(f"{'ok  ' if fixity.passed else 'FAIL'}  {name}: {fixity.description}")
        print(f"{spec.key} {args.version}: {'all hashes and mirrors verified' if result.passed else 'VERIFICATION FAILED'}")
    return 0 if result.passed else 1


def add_operator_commands(commands: argparse._SubParsersAction) -> None:
    """Register status, versions and verify on the `dfc` parser."""

    def common(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int]) -> None:
        parser.add_argument("--workdir", type=Path, default=None,
                            help="the embedded default's folder (default .dfc, unless DFC_S3_BUCKET/DFC_SERVICES_FILE name the deployment)")
        parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
        parser.set_defaults(run=run)

    status = commands.add_parser("status", help="each dataset's latest version, DOI and mirror health (exit 1 if anything is unhealthy)")
    status.add_argument("--no-mirrors", action="store_true", help="skip the web-seed checks")
    common(status, run_status)

    versions = commands.add_parser("versions", help="every published version of a dataset with its DOI and checksums")
    versions.add_argument("dataset", help="registry key or dataset id")
    common(versions, run_versions)

    verify = commands.add_parser("verify", help="check all hashes of a version and every piece on every mirror (exit 1 on any failure)")
    verify.add_argument("dataset", help="registry key or dataset id")
    verify.add_argument("version")
    common(verify, run_verify)
