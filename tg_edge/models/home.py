"""tg-edge's own directory (the assembled demo model, GGUF files placed there by hand)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home_dir() -> Path:
    """``TG_EDGE_HOME``, else the platform's user cache directory for tg-edge (``~/.cache/tg-edge`` on Linux).

    Read at each call, so a changed environment is honoured; nothing is created here.
    """
    explicit = os.environ.get("TG_EDGE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    return platformdirs.user_cache_path("tg-edge", appauthor=False)


def own_models_dir() -> Path:
    """Where tg-edge keeps GGUF files of its own (the demo model); listed by ``tg-edge models list``."""
    return home_dir() / "models"
