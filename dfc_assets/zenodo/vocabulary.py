"""Zenodo's controlled vocabularies that our records use, shared by the record builder and the emulator.

Contributor types and date types are the legacy deposit API's (developers.zenodo.org, DataCite 4);
relation types are DataCite's as Zenodo spells them. Licences: what the registry names (an SPDX id,
or a ``LicenseRef-`` for a licence SPDX lacks), the id Zenodo's licence vocabulary takes for it, the
licence's own URL, and the notice it asks re-users to carry.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRIBUTOR_TYPES = frozenset({
    "ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor", "Editor", "HostingInstitution",
    "Producer", "ProjectLeader", "ProjectManager", "ProjectMember", "RegistrationAgency", "RegistrationAuthority",
    "RelatedPerson", "Researcher", "ResearchGroup", "RightsHolder", "Supervisor", "Sponsor", "WorkPackageLeader", "Other",
})
DATE_TYPES = frozenset({"Collected", "Valid", "Withdrawn"})
RELATIONS = frozenset({
    "isCitedBy", "cites", "isSupplementTo", "isSupplementedBy", "isContinuedBy", "continues",
    "isDescribedBy", "describes", "hasMetadata", "isMetadataFor", "isNewVersionOf",
    "isPreviousVersionOf", "isPartOf", "hasPart", "isReferencedBy", "references",
    "isDocumentedBy", "documents", "isCompiledBy", "compiles", "isVariantFormOf",
    "isOriginalFormOf", "isIdenticalTo", "isAlternateIdentifier", "isReviewedBy", "reviews",
    "isDerivedFrom", "isSourceOf", "requires", "isRequiredBy", "isObsoletedBy", "obsoletes",
})
# Zenodo's licence ids (SPDX-derived, lower case) and the legacy aliases it still accepts.
ZENODO_LICENSE_IDS = frozenset({
    "cc-zero", "cc0-1.0", "cc-by", "cc-by-4.0", "cc-by-3.0", "cc-by-sa-4.0", "cc-by-nc-4.0",
    "cc-by-nd-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "odc-by-1.0", "odc-odbl-1.0",
    "odbl-1.0", "pddl-1.0", "ogl-canada-2.0", "ogl-uk-3.0", "etalab-2.0", "mit", "apache-2.0",
    "bsd-3-clause", "gpl-3.0-or-later", "other-open", "other-at", "other-pd",
})

STATCAN_NOTICE = ("Adapted from Statistics Canada, {product}, {reference}. "
                  "This does not constitute an endorsement by Statistics Canada of this product.")


class LicenseError(ValueError):
    """A licence id and URL that do not name the same licence, or a licence Zenodo cannot take."""


@dataclass(frozen=True)
class License:
    name: str
    zenodo_id: str
    title: str
    url: str
    other_urls: tuple[str, ...] = ()
    notice: str | None = None  # what the licence asks re-users to carry; {product} {reference} {producer} filled in

    def names_url(self, url: str) -> bool:
        wanted = url.strip().rstrip("/").lower().replace("http://", "https://")
        return any(wanted == known.rstrip("/").lower() for known in (self.url, *self.other_urls))


LICENSES: dict[str, License] = {entry.name.lower(): entry for entry in (
    License("CC0-1.0", "cc-zero", "Creative Commons Zero v1.0 Universal",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            ("https://creativecommons.org/publicdomain/zero/1.0/legalcode",)),
    License("CC-BY-4.0", "cc-by-4.0", "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/", ("https://creativecommons.org/licenses/by/4.0/legalcode",),
            notice="{product} by {producer}, licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."),
    License("CC-BY-SA-4.0", "cc-by-sa-4.0", "Creative Commons Attribution Share Alike 4.0 International",
            "https://creativecommons.org/licenses/by-sa/4.0/", ("https://creativecommons.org/licenses/by-sa/4.0/legalcode",),
            notice="{product} by {producer}, licensed under CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)."),
    License("ODbL-1.0", "odbl-1.0", "Open Data Commons Open Database License v1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/", ("https://opendatacommons.org/licenses/odbl/1.0/",),
            notice="Contains information from {product} by {producer}, made available under the Open Database License (ODbL)."),
    License("OGL-Canada-2.0", "ogl-canada-2.0", "Open Government Licence - Canada",
            "https://open.canada.ca/en/open-government-licence-canada",
            ("https://open.canada.ca/fr/licence-du-gouvernement-ouvert-canada",),
            notice="Contains information licensed under the Open Government Licence – Canada."),
    # Not in SPDX nor in Zenodo's vocabulary: Zenodo takes it as "other (open)", the URL goes in the description.
    License("LicenseRef-StatCan-Open-Licence", "other-open", "Statistics Canada Open Licence",
            "https://www.statcan.gc.ca/en/reference/licence", ("https://www.statcan.gc.ca/fr/reference/licence",),
            notice=STATCAN_NOTICE),
)}


def resolve_license(name: str, url: str | None) -> License:
    """The licence ``name`` names, checked against ``url`` and against Zenodo's vocabulary."""
    entry = LICENSES.get(name.strip().lower())
    if entry is None:
        raise LicenseError(f"licence {name!r} is not one Zenodo's vocabulary takes; use one of "
                           f"{sorted(e.name for e in LICENSES.values())}")
    if url and not entry.names_url(url):
        raise LicenseError(f"licence {entry.name} ({entry.title}) is {entry.url}, but the licence URL given is {url}; "
                           "make the licence id and URL name the same licence")
    assert entry.zenodo_id in ZENODO_LICENSE_IDS
    return entry
