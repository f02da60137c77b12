"""A faithful local Zenodo (legacy deposit API on the InvenioRDM backend) for tests and the embedded default."""

from dfc_assets.zenodo.emulator.faults import Fault, FaultPlan
from dfc_assets.zenodo.emulator.server import RequestRecord, ZenodoEmulator
from dfc_assets.zenodo.emulator.state import Limits

__all__ = ["Fault", "FaultPlan", "Limits", "RequestRecord", "ZenodoEmulator"]
