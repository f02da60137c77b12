"""The deposit metadata of every registry dataset, against what a Zenodo curator checks (issue 14.4).

Each record is also created and published on the emulator, whose metadata loader refuses what Zenodo refuses
(licence ids outside its vocabulary, unknown contributor or date types, malformed related identifiers).
"""

from __future__ import annotations

import re

import pytest

from dfc_assets.publication.context import PublicationError
from dfc_assets.publication.zenodo_record import deposit_metadata
from dfc_assets.registry import load_registry
from dfc_assets.transform.manifest import Manifest
from dfc_assets.zenodo import MemoryJournal, publish_version
from dfc_assets.zenodo.deposit_metadata import RecordLink, statcan_table_doi
from dfc_assets.zenodo.vocabulary import CONTRIBUTOR_TYPES, LICENSES, RELATIONS, ZENODO_LICENSE_IDS, resolve_license

from .conftest import make_file

SPECS = list(load_registry())
BASE = "https://data.example.org/"
VERSION = "2025-06-11"


def manifest(spec) -> Manifest:
    return Manifest.from_dict({
        "dataset_id": spec.id, "version": VERSION,
        "sources": [{"url": "https://www150.statcan.gc.ca/t1/wds/rest/getFullTableDownloadCSV/33100036/en", "sha256": "ab",
                     "file_name": "33100036-eng.zip", "size": 1},
                    {"url": "wds:getCubeMetadata/33100036", "sha256": "cd", "file_name": "33100036.json", "size": 1}],
        "output": {"file_name": f"{spec.id}_{VERSION}.parquet", "sha256": "e3b0" * 16, "size": 10,
                   "reference_start": "2017-01-03", "reference_end": "2025-06-10"},
    })


def links(spec) -> tuple[RecordLink, ...]:
    release = f"{BASE}releases/{spec.id}/{VERSION}/{spec.id}_{VERSION}"
    return (
        RecordLink(f"{release}.parquet", "isIdenticalTo", "dataset", "Mirror"),
        RecordLink(f"{release}.parquet.torrent", "isVariantFormOf", "other", "BitTorrent"),
        RecordLink(f"{BASE}processed/{spec.id}.parquet", "isVariantFormOf", "dataset", "Latest version"),
        RecordLink(f"{release}.item.json", "hasMetadata", "other", "STAC item"),
    )


@pytest.fixture(params=SPECS, ids=[s.key for s in SPECS])
def record(request):
    spec = request.param
    return spec, deposit_metadata(spec, VERSION, manifest(spec), links=links(spec), community="dataforcanada")


def test_titles_in_both_languages_as_d4c_writes_them(record):
    spec, metadata = record
    assert metadata["title"] == f"{spec.title.en} / {spec.title.fr} ({VERSION})"
    assert f'<p lang="fr"><strong>{spec.title.fr}</strong>' in metadata["description"]


def test_keywords_in_both_languages(record):
    spec, metadata = record
    keywords = [k.lower() for k in metadata["keywords"]]
    assert spec.keywords_fr and all(k.lower() in keywords for k in (*spec.keywords, *spec.keywords_fr))
    assert len(keywords) == len(set(keywords))


def test_the_producer_is_a_contributor_not_a_creator_of_the_derivative(record):
    spec, metadata = record
    creators = [c["name"] for c in metadata["creators"]]
    assert creators and "Data for Canada" in creators
    contributors = metadata.get("contributors", [])
    assert all(c["type"] in CONTRIBUTOR_TYPES for c in contributors)
    if spec.producer != "Data for Canada":
        assert spec.producer not in creators
        assert {(c["name"], c["type"]) for c in contributors} == {(spec.producer, "DataCollector"), (spec.producer, "RightsHolder")}


def test_the_attribution_the_licence_asks_for(record):
    spec, metadata = record
    if spec.producer == "Statistics Canada":
        notice = ("Adapted from Statistics Canada, Table 33-10-0036-01, 2017-01-03 to 2025-06-10. "
                  "This does not constitute an endorsement by Statistics Canada of this product.")
        assert notice in metadata["description"] and notice in metadata["notes"]
        keywords = [k.lower() for k in metadata["keywords"]]
        assert "statistique canada" in keywords and "tableau 33-10-0036-01" in keywords


def test_derived_from_the_upstream_doi_where_there_is_one(record):
    spec, metadata = record
    derived = [r["identifier"] for r in metadata["related_identifiers"] if r["relation"] == "isDerivedFrom"]
    if spec.source.kind == "statcan_table":
        assert derived == [statcan_table_doi(spec.source.product_id)] == ["10.25318/3310003601-eng"]
    else:
        assert derived and all(re.match(r"^https?://", d) for d in derived)  # no pseudo-URLs
    assert all(r["relation"] in RELATIONS for r in metadata["related_identifiers"])


def test_temporal_coverage(record):
    _, metadata = record
    assert metadata["dates"] == [{"type": "Collected", "start": "2017-01-03", "end": "2025-06-10",
                                  "description": "Reference period of the data / Période de référence des données"}]


def test_links_to_the_torrent_the_stac_item_and_processed(record):
    spec, metadata = record
    related = {(r["relation"], r["identifier"]) for r in metadata["related_identifiers"]}
    assert ("isVariantFormOf", f"{BASE}processed/{spec.id}.parquet") in related
    assert any(rel == "isVariantFormOf" and url.endswith(".parquet.torrent") for rel, url in related)
    assert any(rel == "hasMetadata" and url.endswith(".item.json") for rel, url in related)
    assert any(rel == "isIdenticalTo" and url.endswith(".parquet") for rel, url in related)


def test_licence_id_and_url_are_one_licence_of_zenodos_vocabulary(record):
    spec, metadata = record
    entry = resolve_license(spec.license, spec.license_url)
    assert metadata["license"] == entry.zenodo_id and entry.zenodo_id in ZENODO_LICENSE_IDS
    assert entry.names_url(spec.license_url) and f'href="{entry.url}"' in metadata["description"]


def test_zenodo_takes_the_record_and_publishes_it(record, client, emulator, tmp_path):
    spec, metadata = record
    published = publish_version(client, dataset_id=spec.id, version=VERSION, metadata=metadata,
                                files=[make_file(tmp_path, f"{spec.id}_{VERSION}.parquet", 2_000)], concept_recid=None,
                                journal=MemoryJournal())
    remote = client.get_deposition(published.record_id)["metadata"]
    for key in ("title", "keywords", "dates", "related_identifiers", "license", "notes", "description"):
        assert remote[key] == metadata[key], key
    assert [{k: v for k, v in c.items() if k != "affiliation"} for c in remote.get("contributors", [])] == \
        metadata.get("contributors", [])
    assert published.doi.startswith("10.5072/")  # test DOIs, never the production prefix


def test_a_licence_url_naming_another_licence_is_refused_before_anything():
    spec = next(s for s in SPECS if s.source.kind == "statcan_table")
    from dataclasses import replace

    wrong = replace(spec, license="OGL-Canada-2.0", license_url="https://www.statcan.gc.ca/en/reference/licence")
    with pytest.raises(PublicationError, match=r"statcan_table_33100036 .* version 2025-06-11: licence OGL-Canada-2.0 .* "
                                               r"is https://open.canada.ca/en/open-government-licence-canada, but"):
        deposit_metadata(wrong, VERSION, manifest(wrong))
    with pytest.raises(PublicationError, match="not one Zenodo's vocabulary takes"):
        deposit_metadata(replace(spec, license="WTFPL"), VERSION, manifest(spec))


def test_every_licence_we_know_is_in_zenodos_vocabulary():
    assert all(entry.zenodo_id in ZENODO_LICENSE_IDS for entry in LICENSES.values())


def test_the_emulator_refuses_what_zenodo_refuses(client):
    from dfc_assets.zenodo import ZenodoError

    for bad, field in ((({"contributors": [{"name": "StatCan", "type": "Creator"}]}), "metadata.contributors.0.type"),
                       (({"dates": [{"type": "Published", "start": "2020-01-01"}]}), "metadata.dates.0.type"),
                       (({"dates": [{"type": "Valid", "start": "2021-01-01", "end": "2020-01-01"}]}), "metadata.dates.0"),
                       (({"license": "statcan-open-licence"}), "metadata.license")):
        with pytest.raises(ZenodoError) as raised:
            client.create_deposition({"title": "t", **bad})
        assert raised.value.status == 400 and raised.value.errors[0]["field"] == field
