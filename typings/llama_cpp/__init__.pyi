# The names tg-edge uses from llama_cpp's package namespace (see README.md).
from typing import Any

from . import llama_cpp as llama_cpp
from . import mtmd_cpp as mtmd_cpp
from .llama_cpp import *  # noqa: F403 (as the package itself does; llama_cpp.pyi lists what tg-edge uses)

class Llama:
    """The high-level API, as the bench's naive reference loop uses it (non-streaming completions)."""

    def __init__(
        self,
        model_path: str,
        *,
        n_gpu_layers: int = 0,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        verbose: bool = True,
    ) -> None: ...
    def create_completion(
        self,
        prompt: str,
        *,
        max_tokens: int | None = 16,
        temperature: float = 0.8,
        stop: list[str] | None = None,
    ) -> dict[str, Any]: ...  # the OpenAI-style completion JSON
    def reset(self) -> None: ...
    def n_ctx(self) -> int: ...
    def close(self) -> None: ...
