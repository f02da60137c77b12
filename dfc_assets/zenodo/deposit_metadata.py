"""The legacy deposit metadata of one dataset version, as a curator would want it.

* Titles in both languages, as D4C writes them (``English / Français``). The legacy deposit API has
  no translated titles (no ``additional_titles``: not in its schema nor in any recorded response), so
  the French title is in the title itself and again, marked ``lang="fr"``, in the description.
* Keywords in both languages.
* The producer of the upstream data (Statistics Canada, ...) is not a creator of our derivative: it
  is a contributor as ``DataCollector`` and ``RightsHolder`` (the legacy contributor vocabulary), and
  the notice its licence asks for is in the description and the notes.
* ``isDerivedFrom`` the upstream product's DOI where it has one (a StatCan table P is
  ``10.25318/{P}01-eng``), its download URL otherwise.
* Temporal coverage as ``dates`` of type ``Collected`` (the reference period of the data).
* Links to the other forms of the same bytes, all known before publishing: the release files
  (``isIdenticalTo``, write-once web seeds), the ``.torrent`` and the ``processed/`` file
  (``isVariantFormOf``), the STAC item (``hasMetadata``) and the catalog (``isPartOf``).
* The licence id from Zenodo's vocabulary, checked against the licence URL.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from dfc_assets.zenodo.vocabulary import STATCAN_NOTICE, resolve_license

STATCAN = "Statistics Canada"
STATCAN_FR = "Statistique Canada"
STATCAN_DOI_PREFIX = "10.25318"


def statcan_table_number(product_id: str) -> str:
    """``33100036`` -> ``33-10-0036-01`` (the table number StatCan cites)."""
    return f"{product_id[:2]}-{product_id[2:4]}-{product_id[4:8]}-01"


def statcan_table_doi(product_id: str) -> str:
    return f"{STATCAN_DOI_PREFIX}/{product_id}01-eng"


@dataclass(frozen=True)
class RecordLink:
    url: str
    relation: str
    resource_type: str
    label: str


@dataclass(frozen=True)
class VersionDescription:
    """What the record says about one version; plain values, so this module knows no registry."""

    dataset_id: str
    version: str
    title_en: str
    title_fr: str | None
    description_en: str
    description_fr: str | None
    producer: str
    license: str
    license_url: str | None
    creators: tuple[str, ...]
    keywords_en: tuple[str, ...] = ()
    keywords_fr: tuple[str, ...] = ()
    producer_url: str | None = None
    upstream_doi: str | None = None
    upstream_product: str | None = None  # how the producer cites its product, e.g. "Table 33-10-0036-01"
    source_urls: tuple[str, ...] = ()
    reference_start: str | None = None
    reference_end: str | None = None
    files: tuple[tuple[str, str], ...] = ()  # (name, sha256)
    links: tuple[RecordLink, ...] = field(default=())
    community: str | None = None


def bilingual_title(d: VersionDescription) -> str:
    title = d.title_en if not d.title_fr or d.title_fr == d.title_en else f"{d.title_en} / {d.title_fr}"
    return f"{title} ({d.version})"


def _people(d: VersionDescription) -> tuple[list[dict], list[dict]]:
    """(creators, contributors): a third-party producer moves from the creators to the contributors."""
    creators = [name for name in d.creators if name.strip().lower() != d.producer.strip().lower()] or list(d.creators)
    third_party = d.producer.strip().lower() not in {name.strip().lower() for name in creators}
    contributors = ([{"name": d.producer, "type": role} for role in ("DataCollector", "RightsHolder")]
                    if third_party else [])
    return [{"name": name} for name in creators], contributors


def _reference(d: VersionDescription) -> str:
    if d.reference_start and d.reference_end and d.reference_start != d.reference_end:
        return f"{d.reference_start} to {d.reference_end}"
    return d.reference_end or d.reference_start or f"version {d.version}"


def attribution(d: VersionDescription) -> list[str]:
    """The notices the licence (and, for its data, Statistics Canada's licence) ask re-users to carry."""
    license_ = resolve_license(d.license, d.license_url)
    product = d.upstream_product or d.title_en
    values = {"product": product, "reference": _reference(d), "producer": d.producer}
    notices = [license_.notice.format(**values)] if license_.notice else []
    if d.producer == STATCAN and license_.notice != STATCAN_NOTICE:
        notices.append(STATCAN_NOTICE.format(**values))
    return notices


def _keywords(d: VersionDescription) -> list[str]:
    words = [*d.keywords_en, *d.keywords_fr]
    if d.producer == STATCAN:
        words += [STATCAN, STATCAN_FR]
    if d.upstream_product and d.producer == STATCAN:
        number = d.upstream_product.split()[-1]
        words += [f"table {number}", f"tableau {number}"]
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(word.strip().lower(), word.strip())
    return [word for word in seen.values() if word]


def _dates(d: VersionDescription) -> list[dict]:
    if not (d.reference_start or d.reference_end):
        return []
    entry = {"type": "Collected", "description": "Reference period of the data / Période de référence des données"}
    if d.reference_start:
        entry["start"] = d.reference_start[:10]
    if d.reference_end:
        entry["end"] = d.reference_end[:10]
    return [entry]


def _related(d: VersionDescription) -> list[dict]:
    related: list[dict] = []
    if d.upstream_doi:
        related.append({"identifier": d.upstream_doi, "relation": "isDerivedFrom", "resource_type": "dataset"})
    else:
        related += [{"identifier": url, "relation": "isDerivedFrom", "resource_type": "dataset"}
                    for url in d.source_urls if url.startswith(("https://", "http://"))]
    related += [{"identifier": link.url, "relation": link.relation, "resource_type": link.resource_type} for link in d.links]
    unique: dict[tuple[str, str], dict] = {}
    for item in related:
        unique.setdefault((item["identifier"], item["relation"]), item)
    return list(unique.values())


def _description(d: VersionDescription, notices: Sequence[str], license_title: str, license_url: str) -> str:
    e = html.escape
    parts = [f"<p>{e(d.description_en)}</p>"]
    if d.title_fr or d.description_fr:
        parts.append(f'<p lang="fr"><strong>{e(d.title_fr or "")}</strong> {e(d.description_fr or "")}</p>')
    source = e(d.producer)
    if d.producer_url:
        source = f'<a href="{e(d.producer_url)}">{source}</a>'
    if d.upstream_doi:
        source += f' (<a href="https://doi.org/{e(d.upstream_doi)}">doi:{e(d.upstream_doi)}</a>)'
    parts.append(f"<p>Source: {source}. Licence: <a href=\"{e(license_url)}\">{e(license_title)}</a>.</p>")
    parts += [f"<p>{e(notice)}</p>" for notice in notices]
    if d.links:
        items = "".join(f'<li>{e(link.label)}: <a href="{e(link.url)}">{e(link.url)}</a></li>' for link in d.links)
        parts.append(f"<p>Other ways to get this version:</p><ul>{items}</ul>")
    parts.append(f"<p>Version {e(d.version)}. Data for Canada dataset <code>{e(d.dataset_id)}</code>.</p>")
    return "".join(parts)


def deposit_metadata(d: VersionDescription) -> dict:
    """The ``metadata`` of a deposit create/PUT; never a GET body sent back (a PUT replaces everything)."""
    license_ = resolve_license(d.license, d.license_url)
    notices = attribution(d)
    creators, contributors = _people(d)
    metadata: dict = {
        "upload_type": "dataset",
        "title": bilingual_title(d),
        "description": _description(d, notices, license_.title, license_.url),
        "creators": creators,
        "access_right": "open",
        "license": license_.zenodo_id,
        "keywords": _keywords(d),
        "language": "eng",
    }
    if contributors:
        metadata["contributors"] = contributors
    dates = _dates(d)
    if dates:
        metadata["dates"] = dates
    related = _related(d)
    if related:
        metadata["related_identifiers"] = related
    notes = [f"sha256 of {name}: {sha256}" for name, sha256 in d.files] + list(notices)
    if notes:
        metadata["notes"] = "\n".join(notes)
    if d.community:
        metadata["communities"] = [{"identifier": d.community}]
    return metadata
