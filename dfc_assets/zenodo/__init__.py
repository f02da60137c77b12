"""Zenodo: a crash-safe publishing client and a faithful local emulator of the deposit API."""

from dfc_assets.zenodo.client import DEFAULT_USER_AGENT, ZenodoClient, ZenodoError, ZenodoUncertainError, file_md5
from dfc_assets.zenodo.emulator import Fault, FaultPlan, Limits, ZenodoEmulator
from dfc_assets.zenodo.journal import FileJournal, MemoryJournal, PublicationJournal
from dfc_assets.zenodo.publish import PublishError, publish_version
from dfc_assets.zenodo.record import PublishedFile, PublishedRecord, record_file_url

__all__ = [
    "DEFAULT_USER_AGENT", "Fault", "FaultPlan", "FileJournal", "Limits", "MemoryJournal", "PublicationJournal",
    "PublishError", "PublishedFile", "PublishedRecord", "ZenodoClient", "ZenodoEmulator", "ZenodoError",
    "ZenodoUncertainError", "file_md5", "publish_version", "record_file_url",
]
