"""The schema-drift check run before a version goes to Zenodo (a blocking check on `parquet`).

The version's columns (its manifest's ``output.schema``) are compared with those of the
previous *published* version, in release order (``versions.sort_versions``; published means
its Zenodo record is under releases/). A column removed, renamed or retyped fails the check
with the diff, so nothing reaches Zenodo; added columns pass with a note. An operator who
has reviewed a breaking change lists the version in the registry's
``accepted_schema_changes`` and re-runs the check.
"""

from __future__ import annotations

from dfc_assets.publication.context import Publisher, label
from dfc_assets.publication.verify import Fixity
from dfc_assets.registry import DatasetSpec
from dfc_assets.transform.schema_drift import schema_drift
from dfc_assets.versions import version_sort_key


def published_versions(publisher: Publisher, spec: DatasetSpec) -> list[str]:
    """Versions with a Zenodo record under releases/, in release order."""
    return publisher.published.versions_on_zenodo(spec.id)


def previous_published_version(publisher: Publisher, spec: DatasetSpec, version: str) -> str | None:
    earlier = [v for v in published_versions(publisher, spec) if version_sort_key(v) < version_sort_key(version)]
    return earlier[-1] if earlier else None


def check_schema_drift(publisher: Publisher, spec: DatasetSpec, version: str) -> Fixity:
    manifest = publisher.published.manifest(spec.id, version)
    if manifest is None:
        return Fixity(False, f"{label(spec, version)}: no manifest under releases/; materialize parquet first", {})
    current = manifest.output.schema_dicts
    previous_version = previous_published_version(publisher, spec, version)
    if previous_version is None:
        return Fixity(True, f"{label(spec, version)}: no earlier published version to compare with; {len(current)} columns", {"columns": len(current)})
    previous_manifest = publisher.published.manifest(spec.id, previous_version)
    if previous_manifest is None:
        return Fixity(False, f"{label(spec, version)}: the previous published version {previous_version} has no manifest under releases/", {"previous_version": previous_version})
    drift = schema_drift(previous_manifest.output.schema_dicts, current)
    diff = drift.describe()
    details = {"previous_version": previous_version, "diff": diff}
    if not drift.breaking:
        note = "no schema change" if diff == "no schema change" else f"compatible change (columns added):\n{diff}"
        return Fixity(True, f"{label(spec, version)}: against {previous_version}: {note}", details)
    if version in spec.accepted_schema_changes:
        return Fixity(True, f"{label(spec, version)}: breaking schema change against {previous_version}, accepted in the registry (accepted_schema_changes):\n{diff}", details)
    return Fixity(
        False,
        f"{label(spec, version)}: breaking schema change against the previous published version {previous_version} "
        f"(a column removed, renamed or retyped); not sent to Zenodo:\n{diff}\n"
        f"If the change is intended, add \"{version}\" to accepted_schema_changes of dataset {spec.key} in the registry and re-run the check.",
        details,
    )
