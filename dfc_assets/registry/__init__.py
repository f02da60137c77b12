from dfc_assets.registry.fields import RegistryError
from dfc_assets.registry.spec import (
    URL_SOURCES,
    Bilingual,
    CensusProfileSource,
    DatasetSpec,
    HttpFileSource,
    PrebuiltSource,
    SourceSpec,
    StatcanBoundarySource,
    StatcanTableSource,
    VectorOptions,
    VintageSource,
)
from dfc_assets.registry.collection import Collection, StatcanTablesCollection, statcan_table_id, statcan_table_key
from dfc_assets.registry.cube_list import (
    CUBE_LIST_KEY, CubeListSnapshot, ensure_cube_list, fetch_cube_list, read_cube_list, refresh_cube_list,
)
from dfc_assets.registry.load import REGISTRY_ENV, Registry, default_registry_path, load_registry, packaged_registry_path
from dfc_assets.registry.registered import (
    UnknownDataset, current_registry, forget_registered_datasets, dataset_named, registered_dataset, registered_datasets,
)

__all__ = [
    "CUBE_LIST_KEY", "REGISTRY_ENV", "URL_SOURCES", "Bilingual", "CensusProfileSource", "Collection", "CubeListSnapshot",
    "DatasetSpec", "HttpFileSource", "PrebuiltSource", "Registry", "ensure_cube_list", "RegistryError", "SourceSpec", "StatcanBoundarySource", "StatcanTableSource",
    "StatcanTablesCollection", "UnknownDataset", "VectorOptions", "VintageSource", "current_registry", "dataset_named", "default_registry_path",
    "fetch_cube_list", "forget_registered_datasets", "load_registry", "packaged_registry_path", "read_cube_list",
    "refresh_cube_list", "registered_dataset", "registered_datasets", "statcan_table_id", "statcan_table_key",
]
