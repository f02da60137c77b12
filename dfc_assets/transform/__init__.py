"""Upstream files -> deterministic Parquet / GeoParquet, plus the build manifest.

- ``statcan_table.statcan_table_to_parquet``: a WDS full-table CSV zip (streamed)
- ``census_profile.census_profile_to_parquet``: a latin-1 Census profile CSV zip (streamed)
- ``vector.vector_zip_to_geoparquet``: a zipped shapefile / GeoPackage / GML / File GDB
- ``manifest.build_manifest`` / ``manifest_bytes``: the build manifest of a version
- ``schema_drift.schema_drift``: what changed in the columns since the previous version
- ``zip_safety.open_checked_zip``: HTML pages, truncation, zip-slip, symlinks, zip bombs refused
- ``command``: ``dfc transform statcan-table|census-profile|boundary ZIP OUT.parquet``
Every refusal is a ``result.TransformError`` naming the file (and line) and the cause.
"""
