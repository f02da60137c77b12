"""One publishing process for the rate-limit tests: ``python -m dfc_assets_tests.zenodo.publisher_process``.

Publishes ``--count`` versions of its own dataset (first version, then new versions) through a client
whose rate limiter uses the store named by ``--store`` (as ``DFC_ZENODO_RATE_LIMITER`` would), the
Zenodo token from ``ZENODO_TEST_TOKEN``. Prints one JSON line per published version. With ``--start-file``
it says ``ready`` on stdout once set up and waits for that file, so that several publishers begin together
whatever their start-up times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from dfc_assets.zenodo import FileJournal, ZenodoClient, publish_version
from dfc_assets.zenodo.rate_limit import RateLimiter, bucket_name, store_from_environment

from dfc_assets_tests.zenodo.conftest import make_file, metadata


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--window", type=float, required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--count", type=int, default=2)
    parser.add_argument("--assumed-limit", type=int, required=True)
    parser.add_argument("--start-file", type=Path)
    args = parser.parse_args(argv)
    token = os.environ["ZENODO_TEST_TOKEN"]
    store = store_from_environment({**os.environ, "DFC_ZENODO_RATE_LIMITER": args.store})
    limiter = RateLimiter(store, bucket_name(args.base_url, token), window=args.window, assumed_limit=args.assumed_limit)
    concept = None
    if args.start_file is not None:
        print("ready", flush=True)
        while not args.start_file.exists():
            time.sleep(0.01)
    with ZenodoClient(args.base_url, token, backoff=0.05, rate_limiter=limiter) as client:
        for number in range(1, args.count + 1):
            version = f"v{number}"
            folder = args.workdir / version
            record = publish_version(
                client, dataset_id=args.dataset, version=version, metadata=metadata(f"{args.dataset} ({version})"),
                files=[make_file(folder, f"{args.dataset}_{version}.parquet", 5_000, number)], concept_recid=concept,
                journal=FileJournal(folder / "journal.json"),
            )
            concept = record.concept_recid
            print(json.dumps({"version": version, "record_id": record.record_id, "concept": concept,
                              "rate_limited": client.rate_limited}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
