"""``dfc transform``: run one transform on local files, without Dagster, through the same code the assets use.

    dfc transform statcan-table ZIP OUT.parquet [--product-id PID] [--metadata CUBE.json] [--encoding E] [--skip-ragged-rows]
    dfc transform census-profile ZIP OUT.parquet [--encoding latin-1] [--member NAME ...]
    dfc transform boundary ZIP OUT.parquet [--layer L] [--encoding E] [--invalid-geometries repair|reject|keep] [--keep-names] [--promote-to-multi]

Prints the result (rows, size, sha256, columns) as JSON on stdout, progress on stderr; exit
status 1 with the error's message when the input is refused. The CLI module wires it with
``add_transform_parser(subparsers)`` and ``run_transform_command(args)``; ``main(argv)``
runs it stand-alone (``python -m dfc_assets.transform.command``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path

from dfc_assets.transform.result import TransformError, TransformResult


def _result_json(result: TransformResult) -> str:
    facts = asdict(result)
    facts["path"] = str(result.path)
    for key in ("reference_start", "reference_end"):
        facts[key] = facts[key].isoformat() if facts[key] else None
    return json.dumps(facts, indent=2, default=list)


def add_transform_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("transform", help="run one transform on local files (no Dagster)")
    kinds = parser.add_subparsers(dest="transform_kind", required=True)

    table = kinds.add_parser("statcan-table", help="a WDS full-table CSV zip -> Parquet")
    table.add_argument("zip", type=Path)
    table.add_argument("out", type=Path)
    table.add_argument("--product-id", help="8 digits; default: the first 8 digits of the zip's name")
    table.add_argument("--metadata", type=Path, help="getCubeMetadata object (JSON) to check against")
    table.add_argument("--encoding", default="utf-8")
    table.add_argument("--fiscal-year-start-month", type=int, default=7)
    table.add_argument("--skip-ragged-rows", action="store_true")

    census = kinds.add_parser("census-profile", help="a Census profile CSV zip (latin-1) -> Parquet")
    census.add_argument("zip", type=Path)
    census.add_argument("out", type=Path)
    census.add_argument("--encoding", default="latin-1")
    census.add_argument("--member", action="append", dest="members")

    boundary = kinds.add_parser("boundary", help="a zipped shapefile / GeoPackage / GML / File GDB -> GeoParquet 1.1")
    boundary.add_argument("zip", type=Path)
    boundary.add_argument("out", type=Path)
    boundary.add_argument("--layer")
    boundary.add_argument("--encoding")
    boundary.add_argument("--invalid-geometries", choices=("repair", "reject", "keep"), default="repair")
    boundary.add_argument("--keep-names", action="store_true", help="do not normalise attribute names")
    boundary.add_argument("--promote-to-multi", action="store_true", help="make every geometry a Multi* type")
    return parser


def run_transform_command(args: argparse.Namespace) -> int:
    def log(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        if args.transform_kind == "statcan-table":
            from dfc_assets.transform.statcan_table import statcan_table_to_parquet

            product_id = args.product_id or re.sub(r"\D", "", args.zip.name)[:8]
            metadata = json.loads(args.metadata.read_text(encoding="utf-8")) if args.metadata else None
            result = statcan_table_to_parquet(
                args.zip, args.out, product_id=product_id, cube_metadata=metadata, encoding=args.encoding,
                fiscal_year_start_month=args.fiscal_year_start_month,
                ragged_rows="skip" if args.skip_ragged_rows else "error", log=log,
            )
        elif args.transform_kind == "census-profile":
            from dfc_assets.transform.census_profile import census_profile_to_parquet

            result = census_profile_to_parquet(args.zip, args.out, members=args.members, encoding=args.encoding, log=log)
        else:
            from dfc_assets.transform.vector import vector_zip_to_geoparquet

            result = vector_zip_to_geoparquet(
                args.zip, args.out, layer=args.layer, encoding=args.encoding,
                invalid_geometries=args.invalid_geometries, normalise_names=not args.keep_names,
                promote_to_multi=args.promote_to_multi, log=log,
            )
    except TransformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(_result_json(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dfc")
    add_transform_parser(parser.add_subparsers(dest="command", required=True))
    return run_transform_command(parser.parse_args(["transform", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
