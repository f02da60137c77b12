"""`dfc`: the operator's command line."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

DEFAULT_WORKDIR = Path(".dfc")
STOPPED = 130  # the shell's code for a command stopped by SIGINT; SIGTERM stops the same way


def _interrupt(signum: int, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def stop_on_signals() -> None:
    """SIGTERM stops a command as Ctrl-C does: a KeyboardInterrupt that unwinds every `with` (services, runs, children)."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def _services(args: argparse.Namespace) -> int:
    from dfc_assets.services.local_stack import LocalServices

    stop = threading.Event()
    with LocalServices(args.workdir) as urls:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        print(json.dumps({"services_file": str(Path(args.workdir).resolve() / "services.json"), "store_url": urls.store_url,
                          "zenodo_url": urls.zenodo_url, "sources_url": urls.sources_url, "wds_base_url": urls.wds_base_url}), flush=True)
        stop.wait()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from dfc_assets.cli.demo import run_demo

    say = (lambda message: print(message, file=sys.stderr, flush=True)) if args.json else (lambda message: print(message, flush=True))
    report = run_demo(args.workdir, say=say)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print("\n".join(report.lines()))
    return 1 if report.failures or not report.versions else 0


def _dev(args: argparse.Namespace) -> int:
    """Local services plus `dagster dev` on the same configuration: the UI publishes against them."""
    from dfc_assets.cli.embedded import prepare_dagster_home
    from dfc_assets.services.local_stack import SERVICES_FILE, LocalServices

    workdir = Path(args.workdir).resolve()
    with LocalServices(workdir) as urls:
        env = dict(os.environ, DFC_SERVICES_FILE=str(workdir / SERVICES_FILE), DAGSTER_HOME=str(prepare_dagster_home(workdir)))
        print(f"local services: store {urls.store_url}, Zenodo {urls.zenodo_url}, sources {urls.sources_url}", flush=True)
        workspace = workdir / "workspace.yaml"  # location name dfc_assets, as in production and for `dfc backfill --webserver`
        workspace.write_text("load_from:\n  - python_module:\n      module_name: dfc_assets.definitions\n      location_name: dfc_assets\n", encoding="utf-8")
        dagster = Path(sys.executable).with_name("dagster")
        command = [str(dagster) if dagster.exists() else "dagster", "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)]
        # Its own session: a Ctrl-C reaches it once, through us, and it shuts down its webserver and daemon itself.
        process = subprocess.Popen(command, env=env, start_new_session=True)
        from dfc_assets.cli.run_liveness import sweep_every

        stop = threading.Event()
        sweep_every(env["DAGSTER_HOME"], stop, say=lambda message: print(message, file=sys.stderr, flush=True))
        try:
            return process.wait()
        except KeyboardInterrupt:
            return stop_child(process)
        finally:
            stop.set()


def stop_child(process: subprocess.Popen, grace_seconds: float = 60) -> int:
    """SIGTERM to the child's process group, then SIGKILL if it has not exited within the grace period."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()
    return STOPPED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dfc", description="Data for Canada publication pipeline")
    commands = parser.add_subparsers(dest="command", required=True)

    services = commands.add_parser("services", help="run the local object store, Zenodo emulator and sample sources (foreground)")
    services.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    services.set_defaults(run=_services)

    demo = commands.add_parser("demo", help="publish every registry dataset end to end on the embedded default and check its torrents")
    demo.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    demo.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    demo.set_defaults(run=_demo)

    dev = commands.add_parser("dev", help="local services plus `dagster dev` (the UI) on the same configuration")
    dev.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(run=_dev)

    from dfc_assets.cli.backfill import register as register_backfill

    register_backfill(commands, DEFAULT_WORKDIR)

    from dfc_assets.cli.seed import register as register_seed

    register_seed(commands, DEFAULT_WORKDIR)

    from dfc_assets.cli.catalog import register as register_catalog

    register_catalog(commands, DEFAULT_WORKDIR)

    from dfc_assets.transform.command import add_transform_parser, run_transform_command

    add_transform_parser(commands).set_defaults(run=run_transform_command)

    from dfc_assets.cli.operator import add_operator_commands

    add_operator_commands(commands)
    args = parser.parse_args(argv)
    from dfc_assets.registry import RegistryError
    from dfc_assets.services.ports import PortsTaken
    from dfc_assets.settings import SettingsError

    stop_on_signals()
    try:
        return args.run(args)
    except (SettingsError, RegistryError, PortsTaken) as error:
        print(f"dfc: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"dfc {args.command}: stopped ({interrupt or 'SIGINT'})", file=sys.stderr)
        return STOPPED


if __name__ == "__main__":
    sys.exit(main())
