"""`dfc seed`: keep published dataset versions seeded by BitTorrent.

Infrastructure mode seeds every published version straight from the object store; volunteer mode follows the
catalog or a torrent feed and seeds a chosen set of datasets within a disk budget.
"""

from .infrastructure import BackgroundSeeder, InfrastructureSeeder
from .loop import SwarmMonitor, run_until_stopped
from .offers import Offer, offers_from_catalog, offers_from_feed, offers_from_store, read_offers
from .selection import Selection, choose
from .volunteer import SyncResult, VolunteerSeeder

__all__ = [
    "BackgroundSeeder",
    "InfrastructureSeeder",
    "Offer",
    "Selection",
    "SwarmMonitor",
    "SyncResult",
    "VolunteerSeeder",
    "choose",
    "offers_from_catalog",
    "offers_from_feed",
    "offers_from_store",
    "read_offers",
    "run_until_stopped",
]
