"""How a model is loaded: one frozen object that ``translate``, ``serve``, ``bench`` and a Ray job's actors share."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .translator import Translator


@dataclass(frozen=True)
class LoadOptions:
    """What a :class:`~tg_edge.Translator` is loaded with (its arguments, see there); every command builds
    one from its options, and a Ray dataset job sends one to each actor."""

    model: str | None = None
    """A GGUF path or a model name; ``None``: ``TG_EDGE_MODEL`` or the demo model."""
    threads: int | None = None
    """CPU threads; ``None``: the CPUs this process may use, following the machine's load."""
    gpu_layers: int | str | None = None
    """Layers offloaded to the GPU: a count, -1 for all, ``"auto"`` (or ``None``) for as many as fit."""
    n_ctx: int = 4096
    parallel: int | None = None
    """Segments decoded at once; ``None``: the default for the machine and ``n_ctx``."""
    prompt_profile: str | None = None
    """A prompt profile forced instead of the one detected from the GGUF."""
    kv_type: str = "f16"
    mmproj: Path | None = None
    """The vision projector GGUF; ``None``: the one beside the model file."""

    def load(self, model: str | os.PathLike[str] | None = None) -> Translator:
        """The Translator these options describe; ``model`` (the file a Ray node resolved) stands in for
        :attr:`model`."""
        from .translator import Translator

        arguments: dict[str, Any] = asdict(self)
        named = arguments.pop("model")
        return Translator(model if model is not None else named, **arguments)
