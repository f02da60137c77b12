"""Schema drift between two versions of a dataset: what a blocking check reports before publishing.

Compares the ``(name, arrow type)`` columns of the previous published version (its manifest's
``output.schema`` or ``TransformResult.columns``) with the new ones. Removed and retyped columns
are breaking; added columns are not; a removed and an added column with the same type are
reported as a possible rename. Column order is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaDrift:
    removed: tuple[tuple[str, str], ...] = ()
    added: tuple[tuple[str, str], ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()  # (name, old type, new type)
    possible_renames: tuple[tuple[str, str], ...] = ()  # (old name, new name)

    @property
    def breaking(self) -> bool:
        return bool(self.removed or self.retyped)

    def describe(self) -> str:
        lines = []
        for old, new in self.possible_renames:
            lines.append(f"renamed? {old!r} -> {new!r}")
        renamed_old = {old for old, _ in self.possible_renames}
        renamed_new = {new for _, new in self.possible_renames}
        lines += [f"- removed {name!r} ({kind})" for name, kind in self.removed if name not in renamed_old]
        lines += [f"+ added {name!r} ({kind})" for name, kind in self.added if name not in renamed_new]
        lines += [f"~ retyped {name!r}: {old} -> {new}" for name, old, new in self.retyped]
        return "\n".join(lines) if lines else "no schema change"


def _as_pairs(columns: Iterable) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for column in columns:
        if isinstance(column, Mapping):
            pairs[column["name"]] = column["type"]
        else:
            name, kind = column
            pairs[name] = kind
    return pairs


def schema_drift(previous: Iterable, current: Iterable) -> SchemaDrift:
    """``previous``/``current``: (name, type) pairs or manifest ``{"name", "type"}`` objects."""
    old, new = _as_pairs(previous), _as_pairs(current)
    removed = tuple((name, kind) for name, kind in old.items() if name not in new)
    added = tuple((name, kind) for name, kind in new.items() if name not in old)
    retyped = tuple((name, old[name], new[name]) for name in old if name in new and old[name] != new[name])
    renames = []
    unmatched_added = list(added)
    for name, kind in removed:
        same_type = [candidate for candidate in unmatched_added if candidate[1] == kind]
        if len(same_type) == 1:
            renames.append((name, same_type[0][0]))
            unmatched_added.remove(same_type[0])
    return SchemaDrift(removed=removed, added=added, retyped=retyped, possible_renames=tuple(renames))
