"""JSON representations the emulator answers with (reference §2.3, §2.5, §5; samples/zenodo)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

METADATA_ORDER = (
    "title", "doi", "publication_date", "description", "access_right", "creators", "keywords",
    "imprint_publisher", "notes", "upload_type", "license", "version", "language",
    "related_identifiers", "communities",
)
PRODUCTION_PREFIX = "10.5281"
SANDBOX_PREFIX = "10.5072"


@dataclass(frozen=True)
class Site:
    base_url: str
    sandbox: bool = False

    @property
    def api(self) -> str:
        return f"{self.base_url}/api"

    @property
    def doi_prefix(self) -> str:
        return SANDBOX_PREFIX if self.sandbox else PRODUCTION_PREFIX

    def doi(self, recid: int | str) -> str:
        return f"{self.doi_prefix}/zenodo.{recid}"


def state_of(record: dict) -> str:
    if record["published"] is None:
        return "unsubmitted"
    return "inprogress" if record["draft"] is not None else "done"


def current(record: dict) -> dict:
    """What a deposition GET shows: the draft if there is one, else the published state."""
    return record["draft"] if record["draft"] is not None else record["published"]


def _ordered_metadata(metadata: dict) -> dict:
    ordered = {key: metadata[key] for key in METADATA_ORDER if key in metadata}
    ordered.update({key: value for key, value in metadata.items() if key not in ordered})
    return ordered


def deposition(site: Site, record: dict, *, concept_published: bool) -> dict:
    recid = record["id"]
    state = state_of(record)
    shown = current(record)
    metadata = dict(shown["metadata"])
    published = record["published"] is not None
    if published:
        metadata["doi"] = site.doi(recid)
    metadata = _ordered_metadata(metadata)
    # Hard-coded prefix upstream: wrong on the sandbox, as on the real one.
    metadata["prereserve_doi"] = {"doi": f"{PRODUCTION_PREFIX}/zenodo.{recid}", "recid": recid}
    body: dict = {
        "created": record["created"],
        "modified": record["modified"],
        "id": recid,
        "conceptrecid": str(record["conceptrecid"]),
    }
    if concept_published:
        body["conceptdoi"] = site.doi(record["conceptrecid"])
    if published:
        body["doi"] = site.doi(recid)
        body["doi_url"] = f"https://doi.org/{site.doi(recid)}"
    body.update({
        "metadata": metadata,
        "title": metadata.get("title", ""),
        "links": deposition_links(site, record, state, concept_published),
        "record_id": recid,
        "owner": record["owner"],
        "files": [deposition_file(site, record, entry) for entry in shown["files"]],
        "state": state,
        "submitted": published,
    })
    return body


def deposition_links(site: Site, record: dict, state: str, concept_published: bool) -> dict:
    recid = record["id"]
    deposit = f"{site.api}/deposit/depositions/{recid}"
    actions = {
        "latest_draft": deposit,
        "latest_draft_html": f"{site.base_url}/deposit/{recid}",
        "publish": f"{deposit}/actions/publish",
        "edit": f"{deposit}/actions/edit",
        "discard": f"{deposit}/actions/discard",
        "newversion": f"{deposit}/actions/newversion",
    }
    if state == "unsubmitted":
        return {
            "self": deposit,
            "html": f"{site.base_url}/deposit/{recid}",
            "badge": f"{site.base_url}/badge/doi/.svg",
            "files": f"{deposit}/files",
            "bucket": f"{site.api}/files/{record['bucket']}",
            **actions,
        }
    doi = site.doi(recid)
    concept_doi = site.doi(record["conceptrecid"])
    return {
        "self": f"{site.api}/records/{recid}",
        "html": f"{site.base_url}/records/{recid}",
        "doi": f"https://doi.org/{doi}",
        "parent_doi": f"https://doi.org/{concept_doi}",
        "badge": f"{site.base_url}/badge/doi/{quote(doi, safe='')}.svg",
        "conceptbadge": f"{site.base_url}/badge/doi/{quote(concept_doi, safe='')}.svg",
        "files": f"{site.api}/records/{recid}/files",
        "bucket": f"{site.api}/files/{record['bucket']}",
        **actions,
        "record": f"{site.api}/records/{recid}",
        "record_html": f"{site.base_url}/record/{recid}",
        "latest": f"{site.api}/records/{recid}/versions/latest",
        "latest_html": f"{site.base_url}/records/{recid}/latest",
    }


def deposition_file(site: Site, record: dict, entry: dict) -> dict:
    recid = record["id"]
    owner = (f"{site.api}/records/{recid}" if record["published"] is not None and record["draft"] is None
             else f"{site.api}/deposit/depositions/{recid}")
    return {
        "id": entry["id"],
        "filename": entry["key"],
        "filesize": entry["size"],
        "checksum": entry["md5"],
        "links": {
            "self": f"{owner}/files/{entry['id']}",
            "download": f"{site.api}/records/{recid}/draft/files/{quote(entry['key'])}/content",
        },
    }


def bucket_object(site: Site, bucket: str, entry: dict) -> dict:
    self_link = f"{site.api}/files/{bucket}/{quote(entry['key'])}"
    return {
        "created": entry["created"],
        "updated": entry["updated"],
        "version_id": entry["version_id"],
        "key": entry["key"],
        "size": entry["size"],
        "mimetype": entry["mimetype"],
        "checksum": f"md5:{entry['md5']}",
        "is_head": True,
        "delete_marker": False,
        "links": {
            "self": self_link,
            "version": f"{self_link}?version_id={entry['version_id']}",
            "uploads": f"{self_link}?uploads=1",
        },
    }


def bucket_listing(site: Site, bucket: str, files: list[dict]) -> dict:
    return {
        "id": bucket,
        "size": sum(f["size"] for f in files),
        "locked": False,
        "contents": [bucket_object(site, bucket, f) for f in files],
        "links": {"self": f"{site.api}/files/{bucket}"},
    }


def record(site: Site, record_: dict, versions: list[dict]) -> dict:
    """A published record as ``GET /api/records/{id}`` answers (Zenodo-flavoured JSON)."""
    recid = record_["id"]
    published = record_["published"]
    metadata = _ordered_metadata({**published["metadata"], "doi": site.doi(recid)})
    upload_type = metadata.pop("upload_type", None)
    if upload_type:
        metadata["resource_type"] = {"title": upload_type.capitalize(), "type": upload_type}
    if isinstance(metadata.get("license"), str):
        metadata["license"] = {"id": metadata["license"]}
    ids = [v["id"] for v in versions]
    index = ids.index(recid) if recid in ids else len(ids) - 1
    metadata["relations"] = {"version": [{
        "index": index, "is_last": index == len(ids) - 1,
        "parent": {"pid_type": "recid", "pid_value": str(record_["conceptrecid"])},
    }]}
    doi = site.doi(recid)
    concept_doi = site.doi(record_["conceptrecid"])
    return {
        "created": record_["created"],
        "modified": record_["modified"],
        "updated": record_["modified"],
        "id": recid,
        "conceptrecid": str(record_["conceptrecid"]),
        "doi": doi,
        "conceptdoi": concept_doi,
        "doi_url": f"https://doi.org/{doi}",
        "metadata": metadata,
        "title": metadata.get("title", ""),
        "links": {
            "self": f"{site.api}/records/{recid}",
            "self_html": f"{site.base_url}/records/{recid}",
            "doi": f"https://doi.org/{doi}",
            "self_doi": f"https://doi.org/{doi}",
            "parent": f"{site.api}/records/{record_['conceptrecid']}",
            "parent_doi": f"https://doi.org/{concept_doi}",
            "files": f"{site.api}/records/{recid}/files",
            "versions": f"{site.api}/records/{recid}/versions",
            "latest": f"{site.api}/records/{recid}/versions/latest",
            "latest_html": f"{site.base_url}/records/{recid}/latest",
        },
        "recid": str(recid),
        "revision": record_["revision"],
        "files": [{
            "id": entry["id"],
            "key": entry["key"],
            "size": entry["size"],
            "checksum": f"md5:{entry['md5']}",
            "links": {"self": f"{site.api}/records/{recid}/files/{quote(entry['key'])}/content"},
        } for entry in published["files"]],
        "swh": {},
        "owners": [{"id": str(record_["owner"])}],
        "status": "published",
        "stats": {"downloads": 0, "unique_downloads": 0, "views": 0, "unique_views": 0, "version_downloads": 0,
                  "version_unique_downloads": 0, "version_unique_views": 0, "version_views": 0},
        "state": "done",
        "submitted": True,
    }


def draft_record(site: Site, record_: dict) -> dict:
    """A draft as ``POST /api/records/{id}/versions`` answers (201)."""
    recid = record_["id"]
    draft = record_["draft"]
    return {
        "created": record_["created"],
        "modified": record_["modified"],
        "updated": record_["modified"],
        "id": recid,
        "conceptrecid": str(record_["conceptrecid"]),
        "conceptdoi": site.doi(record_["conceptrecid"]),
        "metadata": _ordered_metadata(dict(draft["metadata"])),
        "title": draft["metadata"].get("title", ""),
        "links": {
            "self": f"{site.api}/records/{recid}/draft",
            "self_html": f"{site.base_url}/uploads/{recid}",
            "publish": f"{site.api}/records/{recid}/draft/actions/publish",
            "files": f"{site.api}/records/{recid}/draft/files",
        },
        "recid": str(recid),
        "revision": record_["revision"],
        "files": [],
        "owners": [{"id": str(record_["owner"])}],
        "status": "new_version_draft",
        "state": "unsubmitted",
        "submitted": False,
    }
