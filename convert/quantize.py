"""Step 2: quantize a BF16/F16 GGUF with llama.cpp's own quantizer (``llama_model_quantize``)."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from types import MappingProxyType

import llama_cpp

from ..errors import ModelError
from ..llama_model import route_llama_logs
from ..machine import default_threads

# Names as gguf and llama.cpp spell them; the CLI accepts any case.
QUANT_TYPES = MappingProxyType(
    {
        "Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
        "Q6_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q6_K,
        "Q5_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M,
        "Q4_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
        "Q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
        "IQ4_NL": llama_cpp.LLAMA_FTYPE_MOSTLY_IQ4_NL,
    }
)


def parse_quants(text: str) -> list[str]:
    """``"q8_0,q4_k_m"`` → ``["Q8_0", "Q4_K_M"]``, with a clear error for anything unknown."""
    names = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in QUANT_TYPES]
    if unknown:
        raise ModelError(f"unknown quant type {unknown[0]!r}; choose from {', '.join(QUANT_TYPES)}")
    return list(dict.fromkeys(names))


def quantize(source: Path, target: Path, quant: str, *, threads: int | None = None) -> None:
    """Write ``source`` quantized to ``quant`` as ``target`` (temporary name first, renamed when complete)."""
    route_llama_logs()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[quant]
    params.nthread = threads or default_threads()
    partial = target.with_name(target.name + ".partial")
    try:
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(partial).encode(), ctypes.byref(params)
        )
        if status != 0 or not partial.is_file():
            raise ModelError(f"llama.cpp could not quantize {source} to {quant} (status {status})")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
