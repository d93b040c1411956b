"""The model files a benchmark runs on: their quant type and how many weight bytes one token reads.

Reads only the GGUF header (gguf's ``GGUFReader`` parses every vocabulary entry, which takes seconds).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from enum import IntEnum

from ..errors import ModelError
from ..models import check_gguf, resolve_model

class GGUFValueType(IntEnum):
    """Metadata value types of the GGUF spec (the ``gguf`` package has them too, but two different
    distributions ship a top-level ``gguf`` and cannot share an environment, so the bench needs neither)."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


_SCALARS = {
    GGUFValueType.UINT8: "<B", GGUFValueType.INT8: "<b", GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h", GGUFValueType.UINT32: "<I", GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f", GGUFValueType.BOOL: "<?", GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q", GGUFValueType.FLOAT64: "<d",
}


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
    for spec in specs or [None]:
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
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            metadata, tensors, data_start = _read_header(data)
            file_bytes = len(data)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"cannot read the GGUF header of {path}: {exc}") from exc
    ordered = sorted(tensors.items(), key=lambda item: item[1])
    ends = [start for _, start in ordered[1:]] + [file_bytes - data_start]
    sizes = {name: end - start for (name, start), end in zip(ordered, ends)}  # data plus alignment padding
    tensor_bytes = sum(sizes.values())
    per_token = tensor_bytes - (sizes.get("token_embd.weight", 0) if "output.weight" in sizes else 0)
    return ModelFile(path, _quant_name(metadata.get("general.file_type"), path), file_bytes, tensor_bytes, per_token)


def _quant_name(file_type: object, path: Path) -> str:
    import llama_cpp  # llama.cpp's own names for its file types (LLAMA_FTYPE_MOSTLY_Q4_K_M = 15, ...)

    by_value = {
        value: name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_").removeprefix("ALL_")
        for name, value in vars(llama_cpp).items()
        if name.startswith("LLAMA_FTYPE_") and isinstance(value, int) and name != "LLAMA_FTYPE_GUESSED"
    }
    if isinstance(file_type, int) and file_type in by_value:
        return by_value[file_type]
    names = list(by_value.values())
    stem = "_" + path.stem.upper().replace("-", "_").replace(".", "_") + "_"  # files without general.file_type
    return max((n for n in names if f"_{n}_" in stem), key=len, default="unknown")


def _read_header(data: mmap.mmap) -> tuple[dict[str, object], dict[str, int], int]:
    """Scalar and string metadata, tensor data offsets by name, and where the tensor data starts."""
    pos = 4  # after the GGUF magic

    def take(fmt: str) -> int | float | bool:
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal pos
        length = int(take("<Q"))
        pos += length
        return data[pos - length:pos].decode("utf-8", errors="replace")

    def value(kind: int) -> object:
        nonlocal pos
        if kind == GGUFValueType.STRING:
            return string()
        if kind == GGUFValueType.ARRAY:
            item, count = int(take("<I")), int(take("<Q"))
            if item in _SCALARS:
                pos += count * struct.calcsize(_SCALARS[GGUFValueType(item)])
            else:
                for _ in range(count):
                    value(item)
            return None
        return take(_SCALARS[GGUFValueType(kind)])

    version = take("<I")
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old")
    n_tensors, n_kv = int(take("<Q")), int(take("<Q"))
    metadata: dict[str, object] = {}
    for _ in range(n_kv):
        key = string()
        metadata[key] = value(int(take("<I")))
    tensors: dict[str, int] = {}
    for _ in range(n_tensors):
        name = string()
        n_dims = int(take("<I"))
        pos += 8 * n_dims
        take("<I")  # tensor type
        tensors[name] = int(take("<Q"))
    alignment = int(metadata.get("general.alignment") or 32)
    return metadata, tensors, -(-pos // alignment) * alignment
