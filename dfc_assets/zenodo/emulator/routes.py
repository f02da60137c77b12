"""The emulator's routes: what each call of the legacy deposit API (and the public file URLs) does."""

from __future__ import annotations

import email.utils
import datetime as dt
import json
import mimetypes
import re
import shlex
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable
from urllib.parse import quote

from dfc_assets.zenodo.emulator import views
from dfc_assets.zenodo.emulator.errors import ApiError
from dfc_assets.zenodo.emulator.metadata import load_metadata, load_request
from dfc_assets.zenodo.emulator.ranges import Unsatisfiable, parse_range
from dfc_assets.zenodo.emulator.serving import Response

if TYPE_CHECKING:
    from dfc_assets.zenodo.emulator.server import Request, ZenodoEmulator

Handler = Callable[["ZenodoEmulator", "Request", tuple[str, ...]], Response]


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern
    name: str
    handler: Handler
    auth: bool = True


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(body).encode(), {"content-type": "application/json", **(headers or {})})


def _deposition(app: "ZenodoEmulator", record: dict, status: int = 200) -> Response:
    concept_published = bool(app.state.published_versions(record["conceptrecid"]))
    body = views.deposition(app.site, record, concept_published=concept_published)
    return json_response(status, body, {"etag": f'"{record["revision"]}"'})


# depositions --------------------------------------------------------------------------------
_TERM = re.compile(r'^(?:([\w.]+):)?(.+)$')


def _matches(app: "ZenodoEmulator", record: dict, query: str) -> bool:
    shown = views.current(record)
    metadata = shown["metadata"]
    try:
        terms = shlex.split(query)
    except ValueError:
        terms = query.split()
    for term in terms:
        if term.upper() in ("AND", "OR"):
            continue
        field, value = _TERM.match(term).groups()  # type: ignore[union-attr]
        value = value.strip('"')
        if field in ("conceptrecid", "parent.id"):
            ok = str(record["conceptrecid"]) == value
        elif field in ("recid", "id"):
            ok = str(record["id"]) == value
        elif field == "doi":
            ok = record["published"] is not None and app.site.doi(record["id"]) == value
        elif field in ("conceptdoi", "parent.pids.doi.identifier"):
            ok = app.site.doi(record["conceptrecid"]) == value
        elif field in ("title", "metadata.title"):
            ok = value.lower() in str(metadata.get("title", "")).lower()
        elif field in ("version", "metadata.version"):
            ok = str(metadata.get("version", "")) == value
        elif field == "keywords":
            ok = value in metadata.get("keywords", [])
        else:
            ok = value.lower() in json.dumps(metadata).lower()
        if not ok:
            return False
    return True


def list_depositions(app: "ZenodoEmulator", request: "Request", _: tuple[str, ...]) -> Response:
    params = request.query
    try:
        size = int(params.get("size", "10"))
        page = int(params.get("page", "1"))
    except ValueError as error:
        raise ApiError(400, "Invalid page or size.") from error
    if size > app.state.limits.max_page_size:
        raise ApiError(400, f"Page size cannot be greater than {app.state.limits.max_page_size}.")
    all_versions = (params.get("all_versions") or params.get("allversions") or "").lower() in ("1", "true", "yes")
    with app.state.lock:
        records = [r for r in app.state.listing() if _matches(app, r, params.get("q", ""))]
        if not all_versions:
            newest: dict[int, dict] = {}
            for record in records:
                if record["conceptrecid"] not in newest or record["id"] > newest[record["conceptrecid"]]["id"]:
                    newest[record["conceptrecid"]] = record
            records = list(newest.values())
        records.sort(key=lambda r: r["id"], reverse=params.get("sort", "mostrecent") not in ("oldest", "-mostrecent"))
        window = records[(page - 1) * size: page * size]
        body = [views.deposition(app.site, r, concept_published=bool(app.state.published_versions(r["conceptrecid"])))
                for r in window]
    return json_response(200, body)


def create_deposition(app: "ZenodoEmulator", request: "Request", _: tuple[str, ...]) -> Response:
    # An empty create gets the defaults the RDM deserializer applies on every load (reference §2.4).
    metadata = load_request(request.json())
    if metadata is None:
        metadata = load_metadata({})
    return _deposition(app, app.state.create(metadata), 201)


def get_deposition(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        return _deposition(app, app.state.record(args[0]))


def update_deposition(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    record = app.state.record(args[0])
    if record["draft"] is None:
        raise ApiError.not_found()
    metadata = load_request(request.json())
    with app.state.lock:
        return _deposition(app, app.state.update(int(args[0]), metadata))


def delete_deposition(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    app.state.delete_draft(int(args[0]))
    return Response(204)


def deposition_action(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    recid, action = int(args[0]), args[1]
    if action == "publish":
        with app.state.lock:
            return _deposition(app, app.state.publish(recid), 202)
    if action == "edit":
        with app.state.lock:
            return _deposition(app, app.state.edit(recid), 201)
    if action == "discard":
        app.state.delete_draft(recid)
        return Response(204)
    with app.state.lock:
        return _deposition(app, app.state.next_version_draft(recid, import_files=True), 201)


def list_files(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.record(args[0])
        files = [views.deposition_file(app.site, record, f) for f in views.current(record)["files"]]
    return json_response(200, files)


def get_file(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.record(args[0])
        for entry in views.current(record)["files"]:
            if entry["id"] == args[1]:
                return json_response(200, views.deposition_file(app.site, record, entry))
    raise ApiError.not_found("The file does not exist.")


def delete_file(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    app.state.delete_file(int(args[0]), file_id=args[1])
    return Response(204)


def not_allowed(app: "ZenodoEmulator", _: "Request", __: tuple[str, ...]) -> Response:
    raise ApiError(405, "The method is not allowed for the requested URL.")


def post_file_multipart(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    raise ApiError(415, "The multipart file API is not emulated; upload with PUT to links.bucket.")


# buckets ------------------------------------------------------------------------------------
def bucket_put(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    bucket, key = args
    app.state.check_upload(bucket, key, request.content_length)
    blob, size, md5 = request.receive_body(app.state)
    mimetype = mimetypes.guess_type(key)[0] or "application/octet-stream"
    entry = app.state.commit_file(bucket, key, blob, size, md5, mimetype)
    return json_response(201, views.bucket_object(app.site, bucket, entry))


def _bucket_files(app: "ZenodoEmulator", bucket: str) -> list[dict]:
    return views.current(app.state.record_by_bucket(bucket))["files"]


def bucket_list(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        return json_response(200, views.bucket_listing(app.site, args[0], _bucket_files(app, args[0])))


def bucket_get(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        entry = next((f for f in _bucket_files(app, args[0]) if f["key"] == args[1]), None)
    if entry is None:
        raise ApiError.not_found("The object does not exist.")
    return _file_body(app, request, entry, ranges=False, published_at=None)


def bucket_delete(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    record = app.state.record_by_bucket(args[0])
    app.state.delete_file(record["id"], key=args[1])
    return Response(204)


# records ------------------------------------------------------------------------------------
def _record_json(app: "ZenodoEmulator", record: dict) -> Response:
    versions = app.state.published_versions(record["conceptrecid"])
    return json_response(200, views.record(app.site, record, versions), {"etag": f'"{record["revision"]}"'})


def get_record(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        return _record_json(app, app.state.resolve_published(args[0]))


def latest_record(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.resolve_published(args[0])
        return _record_json(app, app.state.published_versions(record["conceptrecid"])[-1])


def list_record_versions(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.resolve_published(args[0])
        versions = app.state.published_versions(record["conceptrecid"])
        visible = {r["id"] for r in app.state.listing()}
        hits = [views.record(app.site, r, versions) for r in reversed(versions) if r["id"] in visible]
    size = int(request.query.get("size", "10"))
    page = int(request.query.get("page", "1"))
    body = {"hits": {"hits": hits[(page - 1) * size: page * size], "total": len(hits)},
            "links": {"self": f"{app.site.api}/records/{args[0]}/versions?page={page}&size={size}"}}
    return json_response(200, body)


def create_record_version(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.next_version_draft(args[0], import_files=False)
        return json_response(201, views.draft_record(app.site, record))


def record_file_content(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    """``/api/records/{id}/files/{key}/content``: whole files only (no Range there as of 2026)."""
    return _published_file(app, request, args, ranges=False)


def _published_file(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...], *, ranges: bool) -> Response:
    with app.state.lock:
        record = app.state.resolve_published(args[0])
        entry = next((f for f in record["published"]["files"] if f["key"] == args[1]), None)
    if entry is None:
        raise ApiError.not_found("The file does not exist.")
    return _file_body(app, request, entry, ranges=ranges, published_at=record["published"]["published_at"])


def draft_file_content(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.record(args[0])
        entry = next((f for f in views.current(record)["files"] if f["key"] == args[1]), None)
    if entry is None:
        raise ApiError.not_found("The file does not exist.")
    return _file_body(app, request, entry, ranges=False, published_at=None)


def public_file(app: "ZenodoEmulator", request: "Request", args: tuple[str, ...]) -> Response:
    """``/records/{id}/files/{key}``: the BitTorrent web seed URL, with Range."""
    return _published_file(app, request, args, ranges=True)


def _file_body(app: "ZenodoEmulator", request: "Request", entry: dict, *, ranges: bool, published_at: str | None) -> Response:
    size = entry["size"]
    disposition = "inline"
    if request.query.get("download") is not None:
        disposition = f"attachment; filename={quote(entry['key'])}"
    headers = {
        "content-type": entry["mimetype"],
        "content-disposition": disposition,
    }
    if published_at:
        stamp = dt.datetime.fromisoformat(published_at)
        headers["last-modified"] = email.utils.format_datetime(stamp.astimezone(dt.timezone.utc), usegmt=True)
    path = app.state.blob_path(entry)
    if request.method == "HEAD":
        # Real HEAD answers carry neither Accept-Ranges nor ETag (reference §4.2).
        return Response(200, headers=headers, file=path, offset=0, length=size, head=True)
    if not ranges:
        return Response(200, headers=headers, file=path, offset=0, length=size)
    headers["accept-ranges"] = "bytes"
    headers["etag"] = f'"md5:{entry["md5"]}"'
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except Unsatisfiable:
        return Response(416, b"", {**headers, "content-range": f"bytes */{size}"})
    if wanted is None:
        return Response(200, headers=headers, file=path, offset=0, length=size)
    first, last = wanted
    headers["content-range"] = f"bytes {first}-{last}/{size}"
    return Response(206, headers=headers, file=path, offset=first, length=last - first + 1)


def get_community(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    slug = args[0]
    if slug not in app.communities:
        raise ApiError.not_found()
    body = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"community:{slug}")), "slug": slug,
            "metadata": {"title": slug}, "links": {"self": f"{app.site.api}/communities/{slug}"}}
    return json_response(200, body)


def record_html(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    with app.state.lock:
        record = app.state.resolve_published(args[0])
        title = record["published"]["metadata"].get("title", "")
        doi = app.site.doi(record["id"])
    page = f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>DOI {doi}</p></body></html>"
    return Response(200, page.encode(), {"content-type": "text/html; charset=utf-8"})


def legacy_redirect(app: "ZenodoEmulator", _: "Request", args: tuple[str, ...]) -> Response:
    # The redirect target is rebuilt from the path, so a query string is dropped (reference §4.1).
    rest = quote(args[1], safe="/") if args[1] else ""
    return Response(301, b"", {"location": f"{app.site.base_url}/records/{args[0]}{rest}"})


def _r(methods: str, pattern: str, name: str, handler: Handler, auth: bool = True) -> Route:
    return Route(tuple(methods.split()), re.compile(f"^{pattern}$"), name, handler, auth)


_ID = r"(\d+)"
_DEP = f"/api/deposit/depositions/{_ID}"
_BUCKET = r"/api/files/([0-9a-fA-F-]{36})"
_KEY = r"([^/]+)"

ROUTES: tuple[Route, ...] = (
    _r("GET", "/api/deposit/depositions", "list", list_depositions),
    _r("POST", "/api/deposit/depositions", "create", create_deposition),
    _r("GET", _DEP, "get", get_deposition),
    _r("PUT", _DEP, "update", update_deposition),
    _r("DELETE", _DEP, "delete", delete_deposition),
    _r("POST", f"{_DEP}/actions/(publish)", "publish", deposition_action),
    _r("POST", f"{_DEP}/actions/(edit)", "edit", deposition_action),
    _r("POST", f"{_DEP}/actions/(discard)", "discard", deposition_action),
    _r("POST", f"{_DEP}/actions/(newversion)", "newversion", deposition_action),
    _r("GET", f"{_DEP}/files", "files_list", list_files),
    _r("POST", f"{_DEP}/files", "file_post", post_file_multipart),
    _r("PUT", f"{_DEP}/files", "file_sort", not_allowed),
    _r("GET", f"{_DEP}/files/{_KEY}", "file_get", get_file),
    _r("DELETE", f"{_DEP}/files/{_KEY}", "file_delete", delete_file),
    _r("PUT", f"{_DEP}/files/{_KEY}", "file_rename", not_allowed),
    _r("GET", _BUCKET, "bucket_list", bucket_list),
    _r("PUT", f"{_BUCKET}/{_KEY}", "bucket_put", bucket_put),
    _r("GET", f"{_BUCKET}/{_KEY}", "bucket_get", bucket_get),
    _r("DELETE", f"{_BUCKET}/{_KEY}", "bucket_delete", bucket_delete),
    _r("GET", f"/api/records/{_ID}", "record_get", get_record, auth=False),
    _r("GET", f"/api/records/{_ID}/versions", "record_versions_list", list_record_versions, auth=False),
    _r("POST", f"/api/records/{_ID}/versions", "record_versions_create", create_record_version),
    _r("GET", f"/api/records/{_ID}/versions/latest", "record_latest", latest_record, auth=False),
    _r("GET", f"/api/records/{_ID}/files/{_KEY}/content", "record_file_content", record_file_content, auth=False),
    _r("GET", f"/api/records/{_ID}/draft/files/{_KEY}/content", "draft_file_content", draft_file_content),
    _r("GET", f"/api/communities/{_KEY}", "community_get", get_community, auth=False),
    _r("GET HEAD", f"/records/{_ID}/files/{_KEY}", "public_file", public_file, auth=False),
    _r("GET HEAD", f"/records/{_ID}", "record_html", record_html, auth=False),
    _r("GET HEAD", f"/record/{_ID}(/.*)?", "legacy_redirect", legacy_redirect, auth=False),
)
