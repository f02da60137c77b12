"""STAC items per dataset version, collections per dataset, and the STAC GeoParquet catalog of every version."""
