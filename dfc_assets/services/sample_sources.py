"""The sample-source server: StatCan's WDS API and file downloads, answered from a folder.

Layout of the folder (the same paths as on the real hosts, so only base URLs change):

    wds/cube-metadata/{productId}.json    the getCubeMetadata ``object`` of a table
    n1/tbl/csv/{productId}-eng.zip        the full-table CSV download (and -fra.zip)
    wds/synthetic.json                    a synthetic WDS of any number of tables (``services.synthetic_wds``)
    boundaries/...                        boundary files and other plain downloads

Replacing a file there is how tests and demos make "upstream" publish a new release; for synthetic
tables, ``publish_synthetic_release``. ``DFC_SAMPLE_WDS_TABLES=N`` (and ``DFC_SAMPLE_WDS_SEED``) makes a
first ``seed_sources`` serve N synthetic tables beside the real table 33100036.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from importlib import resources
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dfc_assets.fixtures.boundaries import write_synthetic_boundary_zip
from dfc_assets.services.static_files import BackgroundServer, BadPath, FileServingHandler, confined_file
from dfc_assets.services.synthetic_wds import SyntheticWds, code_sets, configure_synthetic_wds, table_zip

WDS_PREFIX = "/t1/wds/rest/"
_LANG_SUFFIX = {"en": "eng", "fr": "fra"}
SAMPLE_TABLE = "33100036"
BOUNDARY_PATH = "boundaries/lpr_000b21a_e_synthetic.zip"
PREBUILT_PATH = "prebuilt/provinces_territories_synthetic.pmtiles"
PAST_BOUNDARY_PATHS = {2016: "boundaries/lpr_000b16a_e_synthetic.zip", 2011: "boundaries/gpr_000b11a_e_synthetic.zip"}
SYNTHETIC_TABLES_ENV = "DFC_SAMPLE_WDS_TABLES"
SYNTHETIC_SEED_ENV = "DFC_SAMPLE_WDS_SEED"
EASTERN = ZoneInfo("America/Toronto")


class SampleSourceHandler(FileServingHandler):
    server_version = "dfc-sample-sources/1"

    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def send_json(self, body: object, status: int = HTTPStatus.OK) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_bytes(self, data: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def synthetic(self) -> SyntheticWds | None:
        return SyntheticWds.read(self.root)

    def installed_metadata(self) -> list[dict]:
        return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((self.root / "wds" / "cube-metadata").glob("*.json"))]

    def metadata(self, product_id: str) -> dict | None:
        if not (product_id.isascii() and product_id.isdigit()):
            return None  # a product id is digits; anything else could name a file outside the folder
        path = self.root / "wds" / "cube-metadata" / f"{product_id}.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
        wds = self.synthetic()
        cube = wds.cube(product_id) if wds else None
        if cube is None:
            return None
        latest, releases = wds.latest(cube)
        return cube.metadata(latest, releases)

    def on_disk(self, request_target: str) -> Path | None:
        """The file under the folder a request names, None if there is none or the target is malformed."""
        try:
            return confined_file(self.root, request_target)
        except (BadPath, UnicodeDecodeError):
            return None

    def synthetic_zip(self, path: str) -> bytes | None:
        """The CSV zip of a synthetic table at /n1/tbl/csv/{pid}-eng.zip (made on request), or None."""
        name = path.rsplit("/", 1)[-1]
        if not path.startswith("/n1/tbl/csv/") or not name.endswith(("-eng.zip", "-fra.zip")):
            return None
        wds = self.synthetic()
        cube = wds.cube(name[:-8]) if wds else None
        if cube is None:
            return None
        latest, releases = wds.latest(cube)
        return table_zip(cube, releases, latest)

    def do_HEAD(self) -> None:
        if self.on_disk(self.path) is None and (data := self.synthetic_zip(urlsplit(self.path).path)) is not None:
            self.send_bytes(data, "application/zip")
            return
        super().do_HEAD()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if not path.startswith(WDS_PREFIX):
            if self.on_disk(self.path) is None and (data := self.synthetic_zip(path)) is not None:
                self.send_bytes(data, "application/zip")
                return
            super().do_GET()
            return
        method, *args = path[len(WDS_PREFIX):].split("/")
        if method == "getFullTableDownloadCSV" and len(args) == 2 and args[1] in _LANG_SUFFIX:
            product_id = args[0]
            name = f"{product_id}-{_LANG_SUFFIX[args[1]]}.zip"
            on_disk = (self.root / "n1" / "tbl" / "csv" / name).is_file()
            if self.metadata(product_id) is None or not (on_disk or self.synthetic_zip(f"/n1/tbl/csv/{name}") is not None):
                self.send_json({"status": "FAILED", "object": f"Product {product_id} not found"})
                return
            self.send_json({"status": "SUCCESS", "object": f"{self.base_url()}/n1/tbl/csv/{name}"})
        elif method == "getChangedCubeList" and len(args) == 1:
            changed = []
            for meta in self.installed_metadata():
                if str(meta.get("releaseTime", "")).startswith(args[0]):
                    changed.append({"responseStatusCode": 0, "productId": int(meta["productId"]), "releaseTime": meta["releaseTime"]})
            if wds := self.synthetic():
                changed += wds.changed_on(args[0])
            self.send_json({"status": "SUCCESS", "object": changed})
        elif method == "getAllCubesListLite" and not args:
            cubes = [_lite_entry(meta) for meta in self.installed_metadata()]
            if wds := self.synthetic():
                cubes += [cube.lite(wds.latest(cube)[0]) for cube in wds.cubes]
            self.send_json(cubes)
        elif method == "getCodeSets" and not args:
            self.send_json({"status": "SUCCESS", "object": code_sets()})
        else:
            self.send_json({"status": "FAILED", "object": f"unknown WDS method {method!r}"}, HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path != WDS_PREFIX + "getCubeMetadata":
            self.send_json({"status": "FAILED", "object": "not found"}, HTTPStatus.NOT_FOUND)
            return
        try:
            wanted = [str(entry["productId"]) for entry in json.loads(body)]
        except (ValueError, TypeError, KeyError):
            self.send_json({"status": "FAILED", "object": "expected [{\"productId\": N}]"}, HTTPStatus.BAD_REQUEST)
            return
        answers = []
        for product_id in wanted:
            meta = self.metadata(product_id)
            answers.append({"status": "SUCCESS", "object": meta} if meta else {"status": "FAILED", "object": {"responseStatusCode": 1}})
        self.send_json(answers)


def _lite_entry(meta: dict) -> dict:
    """A getCubeMetadata object as getAllCubesListLite lists it (productId an int, releaseTime in UTC)."""
    released = datetime.fromisoformat(meta["releaseTime"]).replace(tzinfo=EASTERN).astimezone(timezone.utc)
    entry = {key: meta.get(key) for key in ("cansimId", "cubeTitleEn", "cubeTitleFr", "cubeStartDate", "cubeEndDate",
                                             "subjectCode", "surveyCode", "frequencyCode", "issueDate")}
    return {**entry, "productId": int(meta["productId"]), "releaseTime": released.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "archived": str(meta.get("archiveStatusCode") or "2"), "corrections": []}


def sample_source_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> BackgroundServer:
    handler = type("SampleSourceServer", (SampleSourceHandler,), {"root": Path(root)})
    return BackgroundServer(handler, host, port)


def wds_base_url(server_base_url: str) -> str:
    return server_base_url.rstrip("/") + WDS_PREFIX.rstrip("/")


def install_statcan_table(root: Path, *, metadata: dict, csv_zip: Path, language: str = "en") -> None:
    """Make the sample-source folder serve this table release (metadata and CSV zip)."""
    product_id = str(metadata["productId"])
    meta_dir = root / "wds" / "cube-metadata"
    zip_dir = root / "n1" / "tbl" / "csv"
    meta_dir.mkdir(parents=True, exist_ok=True)
    zip_dir.mkdir(parents=True, exist_ok=True)
    zip_target = zip_dir / f"{product_id}-{_LANG_SUFFIX[language]}.zip"
    temp = zip_target.with_name(zip_target.name + ".tmp")
    shutil.copyfile(csv_zip, temp)
    temp.replace(zip_target)
    meta_temp = meta_dir / f".{product_id}.json.tmp"
    meta_temp.write_text(json.dumps(metadata, ensure_ascii=False, indent=1), encoding="utf-8")
    meta_temp.replace(meta_dir / f"{product_id}.json")


def sample_table_dir() -> Path:
    return Path(str(resources.files("dfc_assets") / "sample_data" / "statcan"))


def boundary_release_time(revision: int) -> datetime:
    """Fixed Last-Modified of the synthetic boundary file: its version key is this day."""
    return datetime(2022, 2, 9 + revision, 12, 0, tzinfo=timezone.utc)


def install_boundary_fixture(sources_root: Path, revision: int = 0) -> Path:
    target = sources_root / BOUNDARY_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".tmp")
    write_synthetic_boundary_zip(temp, vintage=2021, revision=revision)
    stamp = boundary_release_time(revision).timestamp()
    os.utime(temp, (stamp, stamp))
    temp.replace(target)
    return target


def install_prebuilt_fixture(sources_root: Path, revision: int = 0) -> Path:
    """A deterministic PMTiles "made by another pipeline", Last-Modified on a fixed day (its version key)."""
    from dfc_assets.fixtures.prebuilt import write_synthetic_pmtiles

    target = sources_root / PREBUILT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(target.name + ".tmp")
    write_synthetic_pmtiles(temp, revision=revision)
    stamp = datetime(2025, 8, 10 + revision, 12, 0, tzinfo=timezone.utc).timestamp()
    os.utime(temp, (stamp, stamp))
    temp.replace(target)
    return target


def seed_sources(sources_root: Path, *, synthetic_tables: int | None = None, synthetic_seed: int | None = None) -> None:
    """First start: upstream serves the real table 33100036 (released 2025-06-11) and the boundary fixture,
    and ``synthetic_tables`` synthetic WDS tables (default ``DFC_SAMPLE_WDS_TABLES``, else none)."""
    if (sources_root / "wds").exists():
        return
    count = synthetic_tables if synthetic_tables is not None else int(os.environ.get(SYNTHETIC_TABLES_ENV) or 0)
    if count:
        seed = synthetic_seed if synthetic_seed is not None else int(os.environ.get(SYNTHETIC_SEED_ENV) or 1)
        configure_synthetic_wds(sources_root, seed=seed, count=count)
    table = sample_table_dir()
    metadata = json.loads((table / f"{SAMPLE_TABLE}.json").read_text(encoding="utf-8"))
    install_statcan_table(sources_root, metadata=metadata, csv_zip=table / f"{SAMPLE_TABLE}-eng.zip")
    install_boundary_fixture(sources_root)
    install_prebuilt_fixture(sources_root)
    for vintage, path in PAST_BOUNDARY_PATHS.items():
        target = sources_root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_boundary_zip(target, vintage=vintage)
