"""`dfc catalog`: the DuckDB recipes of dfc_assets.catalog.query on a local catalog file or an http(s) URL."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dfc_assets.storage import CATALOG


def default_catalog(workdir: Path) -> Path:
    """The catalog of the embedded default: the object-store folder of `dfc services --workdir DIR`."""
    return Path(workdir) / "store" / CATALOG


def _source(args: argparse.Namespace) -> str:
    return args.catalog or str(default_catalog(args.workdir))


def _dataset_id(args: argparse.Namespace) -> str:
    """A registry key (`statcan_table_33100036`, a collection member's too) becomes its D4C id; anything else is taken as
    a collection id."""
    from dfc_assets.cli.dataset_names import dataset_id, naming_store

    return dataset_id(args.dataset, naming_store(args.workdir))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _print_json(value: Any) -> None:
    print(json.dumps(_jsonable(value), indent=2, ensure_ascii=False))


def _print_fields(row: dict) -> None:
    width = max(len(k) for k in row)
    for key, value in _jsonable(row).items():
        if isinstance(value, list):
            value = " ".join(map(str, value)) or "-"
        print(f"{key:<{width}}  {'-' if value is None else value}")


def _not_found(message: str) -> int:
    print(f"dfc catalog: {message}", file=sys.stderr)
    return 1


def _versions(args: argparse.Namespace) -> int:
    from dfc_assets.catalog import query

    dataset = _dataset_id(args)
    rows = query.all_versions(_source(args), dataset)
    if args.json:
        _print_json(rows)
    for row in [] if args.json else rows:
        state = "deprecated" if row["deprecated"] else "latest"
        print(f"{row['version']}  {row['doi'] or '-'}  {state:<10}  {_jsonable(row['published']) or '-'}  {row['zenodo_url'] or '-'}")
    return 0 if rows else _not_found(f"no versions of dataset {dataset!r} in {_source(args)}")


def _latest(args: argparse.Namespace) -> int:
    from dfc_assets.catalog import query

    dataset = _dataset_id(args)
    row = query.latest_version(_source(args), dataset)
    if row is None:
        return _not_found(f"no published version of dataset {dataset!r} in {_source(args)}")
    _print_json(row) if args.json else _print_fields(row)
    return 0


def _doi(args: argparse.Namespace) -> int:
    from dfc_assets.catalog import query

    row = query.latest_for_doi(_source(args), args.doi)
    if row is None:
        return _not_found(f"DOI {args.doi!r} is not in {_source(args)}")
    _print_json(row) if args.json else _print_fields(row)
    return 0


def _bbox(args: argparse.Namespace) -> int:
    from dfc_assets.catalog import query

    if args.west > args.east or args.south > args.north:
        return _not_found(f"bbox {args.west} {args.south} {args.east} {args.north}: give W S E N with W <= E and S <= N")
    rows = query.intersecting_bbox(_source(args), (args.west, args.south, args.east, args.north), latest_only=args.latest)
    if args.json:
        _print_json(rows)
    for row in [] if args.json else rows:
        state = "deprecated" if row["deprecated"] else "latest"
        print(f"{row['collection']}  {row['version']}  {row['doi'] or '-'}  {state}  {' '.join(f'{c:g}' for c in row['bbox'])}")
    return 0


def _links(args: argparse.Namespace) -> int:
    from dfc_assets.catalog import query

    row = query.download_links(_source(args), args.doi_or_id)
    if row is None:
        return _not_found(f"no version with DOI or item id {args.doi_or_id!r} in {_source(args)}")
    _print_json(row) if args.json else _print_fields(row)
    return 0


def _footer(args: argparse.Namespace) -> int:
    from dfc_assets.catalog import query

    value = query.footer(_source(args))
    if args.json:
        _print_json(value)
        return 0
    collections = value.get("collections") or {}
    print(f"stac-geoparquet metadata version {value.get('version')}, {len(collections)} collection(s) in the footer")
    for collection_id, collection in collections.items():
        print(f"{collection_id}  {collection.get('title', '')}")
    return 0


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Unreadable catalogs end with one line naming the file and what to do, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        import duckdb

        try:
            return handler(args)
        except (OSError, duckdb.Error, ValueError) as error:
            hint = "" if args.catalog else " (build it with `dfc demo`, or pass --catalog PATH_OR_URL)"
            print(f"dfc catalog: cannot read the catalog {_source(args)}{hint}: {error}", file=sys.stderr)
            return 2

    return run


def register(commands, default_workdir: Path) -> None:
    catalog = commands.add_parser("catalog", help="query the STAC GeoParquet catalog (local path or http(s) URL) with DuckDB")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalog", metavar="PATH_OR_URL",
                        help="catalog file or URL (default: the embedded default's WORKDIR/store/" + CATALOG + ")")
    common.add_argument("--workdir", type=Path, default=default_workdir, help="the embedded default's folder (without --catalog)")
    common.add_argument("--json", action="store_true", help="print JSON instead of lines")
    queries = catalog.add_subparsers(dest="catalog_command", required=True, metavar="QUERY")

    versions = queries.add_parser("versions", parents=[common], help="all versions of a dataset, in release order")
    versions.add_argument("dataset", help="D4C dataset id (the STAC collection) or registry key")
    versions.set_defaults(run=_guarded(_versions))

    latest = queries.add_parser("latest", parents=[common], help="the latest version of a dataset and its DOI")
    latest.add_argument("dataset", help="D4C dataset id (the STAC collection) or registry key")
    latest.set_defaults(run=_guarded(_latest))

    doi = queries.add_parser("doi", parents=[common], help="given the DOI of any version: the latest version of that dataset")
    doi.add_argument("doi", help="e.g. 10.5281/zenodo.1234567")
    doi.set_defaults(run=_guarded(_doi))

    bbox = queries.add_parser("bbox", parents=[common], help="versions whose bbox intersects W S E N (lon/lat, WGS 84)")
    for name in ("west", "south", "east", "north"):
        bbox.add_argument(name, type=float)
    bbox.add_argument("--latest", action="store_true", help="only the latest version of each dataset")
    bbox.set_defaults(run=_guarded(_bbox))

    links = queries.add_parser("links", parents=[common], help="download links of one version: Zenodo, releases/, mirrors, torrent, magnet")
    links.add_argument("doi_or_id", metavar="DOI_OR_ID", help="the version's DOI or STAC item id")
    links.set_defaults(run=_guarded(_links))

    footer = queries.add_parser("footer", parents=[common], help="the file's stac-geoparquet footer (metadata version, collections)")
    footer.set_defaults(run=_guarded(_footer))
