"""The http_file and census_profile kinds, transform options and their validation, DFC_REGISTRY."""

from __future__ import annotations

from pathlib import Path

import pytest

from dfc_assets.registry import (
    REGISTRY_ENV, CensusProfileSource, HttpFileSource, RegistryError, StatcanBoundarySource, StatcanTableSource,
    default_registry_path, load_registry, packaged_registry_path,
)

HEAD = """
datasets:
  - key: demo
    id: ca_demo
    title: {en: Demo}
    description: {en: A demo}
    producer: Somebody
    license: CC0-1.0
"""


def registry(tmp_path: Path, source: str, extra: str = "") -> Path:
    path = tmp_path / "datasets.yaml"
    path.write_text(HEAD + extra + "    source:\n" + "".join(f"      {line}\n" for line in source.strip().splitlines()), encoding="utf-8")
    return path


def only(path: Path):
    (spec,) = load_registry(path)
    return spec


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.test/a/places.csv", "csv"),
        ("https://x.test/a/places.geojson", "geojson"),
        ("https://x.test/a/places.GPKG", "gpkg"),
        ("https://x.test/a/places.parquet?download=1", "parquet"),
        ("{sources_base_url}/files/places.geoparquet", "geoparquet"),
    ],
)
def test_http_file_format_is_told_from_the_file_name(tmp_path, url, expected):
    spec = only(registry(tmp_path, f'kind: http_file\nurl: "{url}"'))
    assert isinstance(spec.source, HttpFileSource) and spec.source.format == expected
    assert spec.is_geospatial == (expected in ("geojson", "gpkg", "geoparquet"))


def test_http_file_with_every_option(tmp_path):
    spec = only(registry(tmp_path, """
kind: http_file
url: https://x.test/download?id=7
format: gpkg
layer: parcels
encoding: latin-1
invalid_geometries: reject
normalise_names: false
promote_to_multi: true
versions:
  "2016": {url: "https://x.test/old.gpkg", layer: parcels_2016}
"""))
    source = spec.source
    assert isinstance(source, HttpFileSource)
    assert (source.format, source.layer, source.encoding) == ("gpkg", "parcels", "latin-1")
    assert (source.vector.invalid_geometries, source.vector.normalise_names, source.vector.promote_to_multi) == ("reject", False, True)
    assert source.for_version("2016") == ("https://x.test/old.gpkg", "parcels_2016", "latin-1")
    assert source.url_for_version("2024-01-01") == "https://x.test/download?id=7"


def test_defaults_of_the_options(tmp_path):
    table = only(registry(tmp_path, 'kind: statcan_table\nproduct_id: "17100022"')).source
    assert isinstance(table, StatcanTableSource) and (table.fiscal_year_start_month, table.ragged_rows) == (7, "error")
    boundary = only(registry(tmp_path, "kind: statcan_boundary\nurl: https://x.test/b.zip")).source
    assert isinstance(boundary, StatcanBoundarySource)
    assert (boundary.vector.invalid_geometries, boundary.vector.normalise_names, boundary.vector.promote_to_multi) == ("repair", True, False)


def test_table_and_census_options(tmp_path):
    table = only(registry(tmp_path, 'kind: statcan_table\nproduct_id: "17100022"\nfiscal_year_start_month: 4\nragged_rows: skip')).source
    assert (table.fiscal_year_start_month, table.ragged_rows) == (4, "skip")
    census = only(registry(tmp_path, "kind: census_profile\nurl: https://x.test/98-401.zip\nragged_rows: skip\nmembers: [a_data.csv]")).source
    assert isinstance(census, CensusProfileSource) and census.members == ("a_data.csv",) and census.ragged_rows == "skip"
    assert not only(registry(tmp_path, "kind: census_profile\nurl: https://x.test/98-401.zip")).is_geospatial


def test_accepted_schema_changes(tmp_path):
    spec = only(registry(tmp_path, 'kind: statcan_table\nproduct_id: "17100022"', extra='    accepted_schema_changes: ["2025-07-01"]\n'))
    assert spec.accepted_schema_changes == ("2025-07-01",)


@pytest.mark.parametrize(
    ("source", "field", "words"),
    [
        ("kind: http_file\nurl: https://x.test/download?id=7", "source.format", "cannot be told"),
        ("kind: http_file\nurl: https://x.test/a.csv\nformat: xlsx", "source.format", "expected one of"),
        ("kind: http_file\nurl: https://x.test/a.csv\ninvalid_geometries: repair", "source.invalid_geometries", "vector formats"),
        ("kind: http_file\nurl: https://x.test/a.gpkg\nragged_rows: skip", "source.ragged_rows", "format 'csv' only"),
        ("kind: http_file\nurl: https://x.test/a.parquet\nencoding: latin-1", "source.encoding", "Parquet"),
        ("kind: http_file\nurl: https://x.test/a.csv\nencoding: klingon-8", "source.encoding", "unknown text encoding"),
        ("kind: statcan_boundary\nurl: https://x.test/b.zip\ninvalid_geometries: fix", "source.invalid_geometries", "['repair', 'reject', 'keep']"),
        ("kind: statcan_boundary\nurl: https://x.test/b.zip\nnormalise_names: 'yes'", "source.normalise_names", "true or false"),
        ("kind: statcan_boundary\nurl: https://x.test/b.zip\npromote_to_multi: 1", "source.promote_to_multi", "true or false"),
        ("kind: statcan_boundary\nurl: https://x.test/b.zip\nragged_rows: skip", "source.ragged_rows", "unknown field"),
        ('kind: statcan_table\nproduct_id: "17100022"\nfiscal_year_start_month: 13', "source.fiscal_year_start_month", "1 to 12"),
        ('kind: statcan_table\nproduct_id: "17100022"\nragged_rows: drop', "source.ragged_rows", "['error', 'skip']"),
        ('kind: statcan_table\nproduct_id: "17100022"\npromote_to_multi: true', "source.promote_to_multi", "unknown field"),
        ("kind: census_profile\nurl: https://x.test/c.zip\ninvalid_geometries: keep", "source.invalid_geometries", "unknown field"),
        ("kind: http_file\nurl: https://x.test/a.csv\nversions: {'2016': {url: https://x.test/o.csv, encoding: nope}}", "source.versions.2016.encoding", "unknown text encoding"),
    ],
)
def test_option_errors_name_the_file_the_dataset_and_the_field(tmp_path, source, field, words):
    path = registry(tmp_path, source)
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    message = str(error.value)
    assert str(path) in message and "dataset 'demo'" in message and f"'{field}'" in message
    assert words in message


def test_accepted_schema_changes_must_be_version_keys(tmp_path):
    path = registry(tmp_path, 'kind: statcan_table\nproduct_id: "17100022"', extra='    accepted_schema_changes: ["2025 07"]\n')
    with pytest.raises(RegistryError, match="'accepted_schema_changes'.*invalid version key"):
        load_registry(path)


def test_dfc_registry_replaces_the_packaged_file(tmp_path, monkeypatch):
    path = registry(tmp_path, "kind: http_file\nurl: https://x.test/a.csv")
    monkeypatch.setenv(REGISTRY_ENV, str(path))
    assert default_registry_path() == path
    assert [spec.key for spec in load_registry()] == ["demo"]
    monkeypatch.setenv(REGISTRY_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(RegistryError, match="missing.yaml: registry file not found"):
        load_registry()
    monkeypatch.delenv(REGISTRY_ENV)
    assert default_registry_path() == packaged_registry_path()
