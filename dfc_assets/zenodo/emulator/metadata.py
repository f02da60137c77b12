"""Legacy deposit metadata as Zenodo's InvenioRDM compatibility layer loads and validates it.

Loading (create / PUT): the top level is strict, unknown keys inside ``metadata`` are
dropped, defaults are re-applied on every load. Publishing validates what RDM requires.
Reference: shared/reference/zenodo.md §2.4, §2.8.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dfc_assets.zenodo import vocabulary
from dfc_assets.zenodo.emulator.errors import ApiError

UPLOAD_TYPES = {
    "publication", "poster", "presentation", "dataset", "image", "video",
    "software", "lesson", "physicalobject", "other",
}
ACCESS_RIGHTS = {"open", "embargoed", "restricted", "closed"}
RELATIONS = vocabulary.RELATIONS
LICENSES = vocabulary.ZENODO_LICENSE_IDS
LICENSE_ALIASES = {"cc0-1.0": "cc-zero", "cc-by": "cc-by-4.0"}
ALLOWED_KEYS = (
    "title", "upload_type", "publication_type", "image_type", "publication_date", "description",
    "access_right", "license", "embargo_date", "access_conditions", "creators", "contributors",
    "keywords", "notes", "related_identifiers", "references", "communities", "grants",
    "subjects", "version", "language", "locations", "dates", "method", "imprint_publisher",
    "doi", "prereserve_doi",
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TOP_LEVEL_KEYS = {"metadata"}


def _error(field: str, message: str) -> ApiError:
    return ApiError.validation([{"field": field, "messages": [message]}])


def load_request(body: Any) -> dict | None:
    """The metadata of a create/PUT body, normalized; None when the body carries none."""
    if body is None:
        return None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON body.")
    unknown = sorted(set(body) - TOP_LEVEL_KEYS)
    if unknown:
        raise ApiError.validation([{"field": key, "messages": ["Unknown field."]} for key in unknown])
    if "metadata" not in body:
        return None
    if not isinstance(body["metadata"], dict):
        raise _error("metadata", "Not a valid mapping type.")
    return load_metadata(body["metadata"])


def load_metadata(raw: dict) -> dict:
    data = {key: raw[key] for key in ALLOWED_KEYS if key in raw and raw[key] is not None}
    data.pop("prereserve_doi", None)
    upload_type = data.get("upload_type")
    if upload_type is not None and upload_type not in UPLOAD_TYPES:
        raise _error("metadata.upload_type", f"Invalid upload type: {upload_type}.")
    date = data.setdefault("publication_date", dt.date.today().isoformat())
    if not isinstance(date, str) or not DATE.match(date):
        raise _error("metadata.publication_date", "Please provide a valid date (YYYY-MM-DD).")
    access = data.setdefault("access_right", "open")
    if access not in ACCESS_RIGHTS:
        raise _error("metadata.access_right", f"Invalid access right: {access}.")
    if access == "embargoed" and not data.get("embargo_date"):
        raise _error("metadata.embargo_date", "Embargo date is required for embargoed records.")
    data.setdefault("imprint_publisher", "Zenodo")
    _load_license(data, access)
    _check_creators(data.get("creators"), "creators")
    _check_creators(data.get("contributors"), "contributors")
    _check_contributor_types(data.get("contributors"))
    _check_related(data.get("related_identifiers"))
    _check_dates(data.get("dates"))
    communities = data.get("communities")
    if communities is not None and (
        not isinstance(communities, list)
        or not all(isinstance(c, dict) and isinstance(c.get("identifier"), str) for c in communities)
    ):
        raise _error("metadata.communities", "Communities must be a list of objects with an identifier.")
    keywords = data.get("keywords")
    if keywords is not None and (not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords)):
        raise _error("metadata.keywords", "Keywords must be a list of strings.")
    return data


def _load_license(data: dict, access: str) -> None:
    value = data.get("license")
    if value is None:
        if access in ("open", "embargoed"):
            data["license"] = "cc-zero" if data.get("upload_type") == "dataset" else "cc-by-4.0"
        return
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str):
        raise _error("metadata.license", "Invalid license value provided (expected a string or {'id': ...}).")
    license_id = value.lower()
    if license_id not in LICENSES:
        raise _error("metadata.license", f"Invalid license provided: {value}")
    data["license"] = LICENSE_ALIASES.get(license_id, license_id)


def _check_creators(people: Any, field: str) -> None:
    if people is None:
        return
    if not isinstance(people, list):
        raise _error(f"metadata.{field}", "Not a valid list.")
    for index, person in enumerate(people):
        if not isinstance(person, dict) or not isinstance(person.get("name"), str) or not person["name"].strip():
            raise _error(f"metadata.{field}.{index}.name", "Name is required.")
        person.setdefault("affiliation", None)


def _check_contributor_types(people: Any) -> None:
    for index, person in enumerate(people or []):
        if person.get("type") not in vocabulary.CONTRIBUTOR_TYPES:
            raise _error(f"metadata.contributors.{index}.type", f"Invalid contributor type: {person.get('type')}.")


def _check_dates(dates: Any) -> None:
    if dates is None:
        return
    if not isinstance(dates, list):
        raise _error("metadata.dates", "Not a valid list.")
    for index, item in enumerate(dates):
        if not isinstance(item, dict) or item.get("type") not in vocabulary.DATE_TYPES:
            raise _error(f"metadata.dates.{index}.type", "Invalid date type.")
        bounds = [item.get(key) for key in ("start", "end") if item.get(key) is not None]
        if not bounds or not all(isinstance(b, str) and DATE.match(b) for b in bounds):
            raise _error(f"metadata.dates.{index}", "A date needs a start or an end (YYYY-MM-DD).")
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise _error(f"metadata.dates.{index}", "The start date must be before the end date.")


def _check_related(related: Any) -> None:
    if related is None:
        return
    if not isinstance(related, list):
        raise _error("metadata.related_identifiers", "Not a valid list.")
    for index, item in enumerate(related):
        if not isinstance(item, dict) or not isinstance(item.get("identifier"), str):
            raise _error(f"metadata.related_identifiers.{index}.identifier", "Missing data for required field.")
        if item.get("relation") not in RELATIONS:
            raise _error(f"metadata.related_identifiers.{index}.relation", "Invalid relation type.")


def publish_errors(metadata: dict, file_count: int) -> list[dict]:
    """The RDM validation errors that block a publish, in the RDM shape."""
    missing = "Missing data for required field."
    errors: list[dict] = []
    if not str(metadata.get("title") or "").strip():
        errors.append({"field": "metadata.title", "messages": [missing]})
    if not metadata.get("creators"):
        errors.append({"field": "metadata.creators", "messages": [missing]})
    if not metadata.get("publication_date"):
        errors.append({"field": "metadata.publication_date", "messages": [missing]})
    if not metadata.get("upload_type"):
        errors.append({"field": "metadata.resource_type", "messages": [missing]})
    if file_count == 0:
        errors.append({"field": "files.enabled", "messages": [
            "Missing uploaded files. To disable files for this record please mark it as metadata-only."
        ]})
    return errors
