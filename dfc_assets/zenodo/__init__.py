"""Zenodo: a crash-safe publishing client and a faithful local emulator of the deposit API.

Which Zenodo is reached is configuration only: a site root and a token.

* zenodo.org: ``ZenodoClient("https://zenodo.org", token)``
* sandbox: ``ZenodoClient("https://sandbox.zenodo.org", token)`` (its own account and token; DOIs 10.5072)
* the emulator: ``ZenodoClient(emulator.base_url, token)``, or run
  ``python -m dfc_assets.zenodo.emulator --port 8790 --data-dir DIR [--token T] [--production-dois]``

The token needs the ``deposit:write`` and ``deposit:actions`` scopes; keep it in the
environment (the pipeline reads ``DFC_ZENODO_TOKEN``), never in files or logs.
``publish_version`` is the one call the pipeline makes; see ``publish.py``. Every client of one
token shares one request budget (``rate_limit.py``; ``DFC_ZENODO_RATE_LIMITER`` picks a file
per host, the Dagster Postgres across hosts).
"""

from dfc_assets.zenodo.client import DEFAULT_USER_AGENT, ZenodoClient, ZenodoError, ZenodoUncertainError, file_md5
from dfc_assets.zenodo.emulator import Fault, FaultPlan, Limits, ZenodoEmulator
from dfc_assets.zenodo.journal import FileJournal, JournalError, MemoryJournal, PublicationJournal
from dfc_assets.zenodo.publish import DepositFile, PublishError, RecordLimits, publish_version
from dfc_assets.zenodo.rate_limit import FileStore, MemoryStore, PostgresStore, RateLimiter, rate_limiter_from_environment
from dfc_assets.zenodo.record import PublishedFile, PublishedRecord, record_file_url

__all__ = [
    "DEFAULT_USER_AGENT", "DepositFile", "Fault", "FaultPlan", "FileJournal", "FileStore", "JournalError", "Limits",
    "MemoryJournal", "MemoryStore", "PostgresStore", "PublicationJournal", "RateLimiter", "RecordLimits",
    "rate_limiter_from_environment",
    "PublishError", "PublishedFile", "PublishedRecord", "ZenodoClient", "ZenodoEmulator", "ZenodoError",
    "ZenodoUncertainError", "file_md5", "publish_version", "record_file_url",
]
