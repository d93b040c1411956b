"""The model store: where models come from (a GGUF path, the demo model, a catalog name, the hub) and what is installed.

``resolve`` turns ``--model`` into a file, ``store`` lists and removes installed files, ``pull``
downloads into the Hugging Face cache (``hfcache``), ``catalog`` names the known models.
"""

from .catalog import CATALOG, DEFAULT_QUANT, CatalogEntry, catalog_entry, catalog_entry_for_repo
from .demo import DEMO_MODEL, demo_model_path
from .hfcache import hub_cache_dir, offline_mode
from .home import home_dir
from .pull import pull_model
from .resolve import HOW_TO_GET_A_MODEL, check_gguf, find_projector, resolve_model
from .spec import quant_of_filename, split_quant
from .store import InstalledModel, ModelInfo, available_models, find_pulled, installed_models, remove_models

__all__ = [
    "CATALOG",
    "DEFAULT_QUANT",
    "DEMO_MODEL",
    "HOW_TO_GET_A_MODEL",
    "CatalogEntry",
    "InstalledModel",
    "ModelInfo",
    "available_models",
    "catalog_entry",
    "catalog_entry_for_repo",
    "check_gguf",
    "demo_model_path",
    "find_projector",
    "find_pulled",
    "home_dir",
    "hub_cache_dir",
    "installed_models",
    "offline_mode",
    "pull_model",
    "quant_of_filename",
    "remove_models",
    "resolve_model",
    "split_quant",
]
