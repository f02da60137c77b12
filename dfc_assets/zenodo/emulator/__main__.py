"""``python -m dfc_assets.zenodo.emulator --host H --port P --data-dir DIR [--token T] [--production-dois]``.

Prints the base URL on one line, then serves until killed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from dfc_assets.zenodo.emulator.server import ZenodoEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dfc_assets.zenodo.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--token", default="emulator-token",
                        help="the accepted API token (default: emulator-token); prefer setting it from an environment variable in scripts")
    parser.add_argument("--production-dois", action="store_true",
                        help="mint 10.5281 DOIs like zenodo.org (default: 10.5072 test DOIs like sandbox.zenodo.org)")
    parser.add_argument("--sandbox", action="store_true", help="10.5072 test DOIs (the default; kept for old scripts)")
    parser.add_argument("--rate-limit", type=int, default=1000, help="requests per window per token (default 1000, as Zenodo)")
    parser.add_argument("--rate-limit-window", type=int, default=60, help="seconds (default 60)")
    args = parser.parse_args(argv)
    emulator = ZenodoEmulator(args.data_dir, token=args.token, host=args.host, port=args.port, sandbox=not args.production_dois,
                               rate_limit=args.rate_limit, rate_limit_window=args.rate_limit_window)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emulator.start()
    print(emulator.base_url, flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
