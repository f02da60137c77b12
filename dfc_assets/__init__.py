"""Data for Canada publication pipeline."""

__version__ = "0.1.0"
