"""`dfc seed infrastructure` and `dfc seed volunteer`: keep published versions seeded by BitTorrent."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

import httpx

from dfc_assets.seeding import InfrastructureSeeder, Selection, SwarmMonitor, VolunteerSeeder, run_until_stopped
from dfc_assets.seeding.selection import parse_size
from dfc_assets.torrent.seeder import Seeder

WILDCARD_HOSTS = ("0.0.0.0", "[::]", "::")


def say(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", flush=True)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(signum, lambda *_: stop.set())
        except ValueError:  # not the main thread (called from a test): the caller stops the process
            pass
    return stop


def _announce(seeder: Seeder, listen: str, public_host: str | None) -> None:
    host = public_host or listen.rsplit(":", 1)[0]
    if host in WILDCARD_HOSTS:
        say(f"listening on {listen.rsplit(':', 1)[0]}:{seeder.port}; pass --public-host to print the DFC_SEEDER_PEER value")
    else:
        say(f"listening on {host}:{seeder.port}; DFC_SEEDER_PEER={host}:{seeder.port} (magnet x.pe)")


def _serve(seeder: Seeder, poll, args: argparse.Namespace) -> int:
    monitor = SwarmMonitor(seeder)
    if args.once:
        poll()
        say(monitor.line())
        return 0
    run_until_stopped(poll, monitor, stop=_stop_on_signals(), poll_interval=args.interval,
                      status_interval=args.status_interval, log=say)
    say("stopped")
    return 0


def _store_from_settings(workdir: Path):
    from dfc_assets.defs.resources import object_store
    from dfc_assets.services.local_stack import SERVICES_FILE
    from dfc_assets.settings import SettingsError, load_settings

    if not any(os.environ.get(name) for name in ("DFC_SERVICES_FILE", "DFC_S3_BUCKET", "DFC_STORE")):
        os.environ["DFC_SERVICES_FILE"] = str(Path(workdir).resolve() / SERVICES_FILE)
    try:
        return object_store(load_settings())
    except SettingsError as error:
        raise SystemExit(f"dfc seed: {error}") from None


def infrastructure(args: argparse.Namespace) -> int:
    if args.source and not args.data_dir:
        raise SystemExit("dfc seed infrastructure: --source needs --data-dir (where the version files are downloaded)")
    store = None if args.source else _store_from_settings(args.workdir)
    with Seeder(args.listen, discovery=not args.no_discovery) as seeder, httpx.Client(timeout=60) as http:
        _announce(seeder, args.listen, args.public_host)
        if args.source:
            follower = VolunteerSeeder(args.source, seeder, Selection(), data_dir=args.data_dir, http=http, log=say)
            return _serve(seeder, follower.sync, args)
        say(f"seeding every published version of {store.describe()}")
        return _serve(seeder, InfrastructureSeeder(store, seeder, cache_dir=args.data_dir, log=say).poll, args)


def dataset_patterns(names: list[str], store=None) -> tuple[str, ...]:
    """Registry keys (a collection member's too, from ``store``'s cube list) become D4C dataset ids; ids and shell
    patterns pass through."""
    from dfc_assets.cli.dataset_names import dataset_id

    return tuple(dataset_id(name, store) for name in names)


def volunteer(args: argparse.Namespace) -> int:
    try:
        budget = parse_size(args.budget)
    except ValueError as error:
        raise SystemExit(f"dfc seed volunteer: --budget: {error}") from None
    from dfc_assets.cli.dataset_names import naming_store

    store = naming_store(args.workdir) if args.dataset else None
    selection = Selection(datasets=dataset_patterns(args.dataset, store), latest_only=args.latest_only, budget_bytes=budget)
    with Seeder(args.listen, discovery=not args.no_discovery) as seeder, httpx.Client(timeout=60) as http:
        _announce(seeder, args.listen, args.public_host)
        follower = VolunteerSeeder(args.source, seeder, selection, data_dir=args.data_dir, http=http, log=say)
        return _serve(seeder, follower.sync, args)


def _common(parser: argparse.ArgumentParser, interval: float) -> None:
    parser.add_argument("--listen", default="0.0.0.0:6881", help="ip:port the BitTorrent session listens on (default 0.0.0.0:6881)")
    parser.add_argument("--public-host", help="the host peers reach this seeder at (printed as DFC_SEEDER_PEER=host:port)")
    parser.add_argument("--no-discovery", action="store_true", help="no DHT, local peer discovery, UPnP or NAT-PMP")
    parser.add_argument("--interval", type=float, default=interval, help=f"seconds between polls for new versions (default {interval:g})")
    parser.add_argument("--status-interval", type=float, default=60.0, help="seconds between status lines (default 60)")
    parser.add_argument("--once", action="store_true", help="poll once, print one status line and exit")


def register(commands, default_workdir: Path) -> None:
    seed = commands.add_parser("seed", help="seed published versions by BitTorrent (infrastructure peer or volunteer)")
    modes = seed.add_subparsers(dest="seed_mode", required=True)

    infra = modes.add_parser("infrastructure", help="always-on seeder of every published version, from the object store")
    infra.add_argument("--workdir", type=Path, default=default_workdir,
                       help="the embedded default's folder, when neither DFC_SERVICES_FILE nor DFC_S3_BUCKET is set")
    infra.add_argument("--source", help="instead of the store: a catalog (.parquet) or torrent feed URL to seed all of")
    infra.add_argument("--data-dir", type=Path, help="where version files are kept when they are not in a local store")
    _common(infra, 60.0)
    infra.set_defaults(run=infrastructure)

    vol = modes.add_parser("volunteer", help="follow the catalog or a torrent feed and seed chosen datasets within a disk budget")
    vol.add_argument("source", help="catalog URL (…/catalog/dfc-catalog.parquet) or torrent feed URL (…/feeds/torrents.xml)")
    vol.add_argument("--data-dir", type=Path, required=True, help="folder the volunteer owns: {dataset}/{version}/ file and .torrent")
    vol.add_argument("--budget", required=True, help="disk budget, e.g. 500GB or 1.5TiB")
    vol.add_argument("--dataset", action="append", default=[], help="dataset key, D4C id or shell pattern (repeat); default: all")
    vol.add_argument("--latest-only", action="store_true", help="only the newest version of each dataset")
    vol.add_argument("--workdir", type=Path, default=default_workdir,
                     help="the embedded default's folder, whose store names collection members (without the production variables)")
    _common(vol, 3600.0)
    vol.set_defaults(run=volunteer)


