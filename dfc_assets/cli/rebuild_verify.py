"""`dfc rebuild --verify DATASET VERSION`: rebuild a published version from archive/ and say whether, and why, it differs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def verify(args: argparse.Namespace, spec) -> int:
    from dfc_assets.defs.resources import PublisherResource
    from dfc_assets.publication.context import PublicationError
    from dfc_assets.publication.rebuild import verify_rebuild
    from dfc_assets.services.local_stack import SERVICES_FILE

    if not args.webserver:
        os.environ.setdefault("DFC_SERVICES_FILE", str(Path(args.workdir).resolve() / SERVICES_FILE))
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        with PublisherResource().open(say) as publisher:
            check = verify_rebuild(publisher, spec, args.base_version, recorded_environment=args.recorded_environment, offline=args.offline)
    except PublicationError as error:
        print(f"dfc rebuild --verify: {error}", file=sys.stderr)
        return 2
    print("\n".join(check.lines()))
    return 0 if check.matches else 1


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verify", action="store_true", help="rebuild BASE_VERSION from archive/ and compare sha256 and info-hashes with the published ones; publishes nothing")
    parser.add_argument("--recorded-environment", action="store_true", help="with --verify: rebuild in a throwaway venv with the library versions the manifest records")
    parser.add_argument("--offline", action="store_true", help="with --recorded-environment: install from uv's cache only")
