"""Read a GGUF file's header: its scalar and string metadata and where each tensor's data lies.

Reads only the header (gguf's ``GGUFReader`` parses every vocabulary entry, which takes seconds), and
needs neither ``gguf`` package: two different distributions ship a top-level ``gguf`` and cannot share
an environment.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType

from . import gguf_keys
from .errors import ModelError


class GGUFValueType(IntEnum):
    """Metadata value types of the GGUF spec."""

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
    GGUFValueType.UINT8: "<B",
    GGUFValueType.INT8: "<b",
    GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h",
    GGUFValueType.UINT32: "<I",
    GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f",
    GGUFValueType.BOOL: "<?",
    GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q",
    GGUFValueType.FLOAT64: "<d",
}
_MAX_ARRAY = 4096


@dataclass(frozen=True)
class GGUFHeader:
    """What a GGUF header says: metadata, tensor offsets, file size.

    Numeric arrays of up to 4096 items (per-layer values) are tuples; string arrays and longer ones
    (the vocabulary) are left out, as ``None``.
    """

    metadata: dict[str, object]
    tensor_offsets: dict[str, int]
    """Where each tensor's data starts, relative to :attr:`data_start`."""
    data_start: int
    file_bytes: int
    tensor_dims: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Each tensor's dimensions, innermost first (``token_embd.weight``: embedding length, vocabulary)."""
    tensor_types: dict[str, int] = field(default_factory=dict)
    """Each tensor's ggml type number (``GGMLQuantizationType``: 0 F32, 8 Q8_0, 12 Q4_K ...), in file order."""

    @property
    def quant(self) -> str:
        """llama.cpp's name for the file type (``Q4_K_M``, ``Q8_0``, ``BF16`` ...), or ``unknown``."""
        return quant_name(self.metadata.get(gguf_keys.FILE_TYPE))

    @property
    def tensor_sizes(self) -> dict[str, int]:
        """Bytes each tensor takes in the file, its alignment padding included, in file order."""
        ordered = sorted(self.tensor_offsets.items(), key=lambda item: item[1])
        ends = [start for _, start in ordered[1:]] + [self.file_bytes - self.data_start]
        return {name: end - start for (name, start), end in zip(ordered, ends, strict=False)}

    def string(self, key: str) -> str:
        value = self.metadata.get(key)
        return value if isinstance(value, str) else ""


def read_header(path: Path) -> GGUFHeader:
    """Parse the header of the GGUF file at ``path``; :class:`ModelError` if it is not readable GGUF."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            if data[:4] != b"GGUF":
                raise ValueError("it does not start with the GGUF magic")
            metadata, tensors, dims, types, data_start = _parse(data)
            return GGUFHeader(metadata, tensors, data_start, len(data), dims, types)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"cannot read the GGUF header of {path}: {exc}") from exc


# llama.cpp's file types, the values of ``general.file_type`` (``enum llama_ftype`` in llama.h, as
# llama-cpp-python 0.3.36 exports them: LLAMA_FTYPE_MOSTLY_Q4_K_M = 15, ...), named without the
# LLAMA_FTYPE_ / MOSTLY_ / ALL_ prefixes. A table, so that naming a file's quant loads no llama.cpp;
# tests/test_imports.py checks it against llama_cpp's own constants.
FILE_TYPES = MappingProxyType(
    {
        0: "F32",
        1: "F16",
        2: "Q4_0",
        3: "Q4_1",
        7: "Q8_0",
        8: "Q5_0",
        9: "Q5_1",
        10: "Q2_K",
        11: "Q3_K_S",
        12: "Q3_K_M",
        13: "Q3_K_L",
        14: "Q4_K_S",
        15: "Q4_K_M",
        16: "Q5_K_S",
        17: "Q5_K_M",
        18: "Q6_K",
        19: "IQ2_XXS",
        20: "IQ2_XS",
        21: "Q2_K_S",
        22: "IQ3_XS",
        23: "IQ3_XXS",
        24: "IQ1_S",
        25: "IQ4_NL",
        26: "IQ3_S",
        27: "IQ3_M",
        28: "IQ2_S",
        29: "IQ2_M",
        30: "IQ4_XS",
        31: "IQ1_M",
        32: "BF16",
        36: "TQ1_0",
        37: "TQ2_0",
        38: "MXFP4_MOE",
        39: "NVFP4",
        40: "Q1_0",
        41: "Q2_0",
    }
)


def quant_name(file_type: object, path: Path | None = None) -> str:
    """llama.cpp's name for a ``general.file_type`` value; files without one are named by their file name."""
    if isinstance(file_type, int) and file_type in FILE_TYPES:
        return FILE_TYPES[file_type]
    if path is None:
        return "unknown"
    stem = "_" + path.stem.upper().replace("-", "_").replace(".", "_") + "_"
    return max((n for n in FILE_TYPES.values() if f"_{n}_" in stem), key=len, default="unknown")


def _parse(
    data: mmap.mmap,
) -> tuple[dict[str, object], dict[str, int], dict[str, tuple[int, ...]], dict[str, int], int]:
    """Scalar and string metadata, tensor data offsets, dimensions and types by name, and where the tensor
    data starts."""
    pos = 4  # after the GGUF magic

    def take(fmt: str) -> int | float | bool:
        nonlocal pos
        value: int | float | bool = struct.unpack_from(fmt, data, pos)[0]
        pos += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal pos
        length = int(take("<Q"))
        pos += length
        return data[pos - length : pos].decode("utf-8", errors="replace")

    def value(kind: int) -> object:
        nonlocal pos
        if kind == GGUFValueType.STRING:
            return string()
        if kind == GGUFValueType.ARRAY:
            item, count = int(take("<I")), int(take("<Q"))
            if item == GGUFValueType.STRING:  # the vocabulary: stepped over, not decoded
                for _ in range(count):
                    pos += 8 + struct.unpack_from("<Q", data, pos)[0]
                return None
            if item not in _SCALARS:
                for _ in range(count):
                    value(item)
                return None
            fmt = _SCALARS[GGUFValueType(item)]
            start, pos = pos, pos + count * struct.calcsize(fmt)
            # Per-layer values (head counts ...) are kept; vocabulary-sized ones are skipped.
            return struct.unpack_from(f"<{count}{fmt[1:]}", data, start) if count <= _MAX_ARRAY else None
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
    dims: dict[str, tuple[int, ...]] = {}
    types: dict[str, int] = {}
    for _ in range(n_tensors):
        name = string()
        n_dims = int(take("<I"))
        dims[name] = tuple(int(take("<Q")) for _ in range(n_dims))
        types[name] = int(take("<I"))
        tensors[name] = int(take("<Q"))
    given = metadata.get(gguf_keys.ALIGNMENT)
    alignment = given if isinstance(given, int) and given > 0 else 32
    return metadata, tensors, dims, types, -(-pos // alignment) * alignment
