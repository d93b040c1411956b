"""The model files a benchmark runs on: their quant type and how many weight bytes one token reads.

Reads only the GGUF header (gguf's ``GGUFReader`` parses every vocabulary entry, which takes seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import gguf_keys
from ..errors import ModelError
from ..gguf_header import quant_name, read_header
from ..models import check_gguf, resolve_model


@dataclass(frozen=True)
class ModelFile:
    """One GGUF file to benchmark."""

    path: Path
    quant: str
    """llama.cpp's name for the file type (``Q4_K_M``, ``Q8_0``, ``BF16`` ...)."""
    file_bytes: int
    tensor_bytes: int
    bytes_per_token: int
    """Weight bytes one decoded token streams from memory: every tensor, except that a separate
    output matrix makes the token embedding a row lookup (tied embeddings are read in full)."""

    @property
    def name(self) -> str:
        return self.path.stem


def find_models(specs: Sequence[str], quants: Sequence[str] = ()) -> list[ModelFile]:
    """The GGUF files named by ``specs`` (paths, directories of .gguf files, model names), filtered by quant.

    No specs means the default model (``TG_EDGE_MODEL`` or the demo model).
    """
    paths: list[Path] = []
    given: Sequence[str | None] = specs or [None]  # None: the default model
    for spec in given:
        if spec is not None and Path(spec).expanduser().is_dir():
            found = sorted(Path(spec).expanduser().glob("*.gguf"), key=lambda p: -p.stat().st_size)
            if not found:
                raise ModelError(f"no .gguf files in {spec}")
            paths += found
        else:
            paths.append(resolve_model(spec))
    models: list[ModelFile] = []
    for path in dict.fromkeys(p.resolve() for p in paths):
        check_gguf(path)
        models.append(read_model_file(path))
    if not quants:
        return models
    wanted = {q.upper() for q in quants}
    chosen = [m for m in models if m.quant.upper() in wanted]
    if not chosen:
        have = ", ".join(sorted({m.quant for m in models}))
        raise ModelError(f"no model file of quant {', '.join(sorted(wanted))}; the files given are {have}")
    return chosen


def read_model_file(path: Path) -> ModelFile:
    """Describe one GGUF file from its header."""
    header = read_header(path)
    sizes = header.tensor_sizes  # data plus alignment padding
    tensor_bytes = sum(sizes.values())
    per_token = tensor_bytes - (sizes.get("token_embd.weight", 0) if "output.weight" in sizes else 0)
    quant = quant_name(header.metadata.get(gguf_keys.FILE_TYPE), path)
    return ModelFile(path, quant, header.file_bytes, tensor_bytes, per_token)
