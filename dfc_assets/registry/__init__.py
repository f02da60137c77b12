from dfc_assets.registry.load import REGISTRY_ENV, RegistryError, default_registry_path, load_registry, packaged_registry_path
from dfc_assets.registry.spec import (
    URL_SOURCES,
    Bilingual,
    CensusProfileSource,
    DatasetSpec,
    HttpFileSource,
    SourceSpec,
    StatcanBoundarySource,
    StatcanTableSource,
    VectorOptions,
    VintageSource,
)

__all__ = [
    "REGISTRY_ENV", "URL_SOURCES", "Bilingual", "CensusProfileSource", "DatasetSpec", "HttpFileSource", "RegistryError",
    "SourceSpec", "StatcanBoundarySource", "StatcanTableSource", "VectorOptions", "VintageSource", "default_registry_path",
    "load_registry", "packaged_registry_path",
]
