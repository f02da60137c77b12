from dfc_assets.registry.load import RegistryError, default_registry_path, load_registry
from dfc_assets.registry.spec import Bilingual, DatasetSpec, SourceSpec, StatcanBoundarySource, StatcanTableSource

__all__ = [
    "Bilingual", "DatasetSpec", "RegistryError", "SourceSpec", "StatcanBoundarySource",
    "StatcanTableSource", "default_registry_path", "load_registry",
]
