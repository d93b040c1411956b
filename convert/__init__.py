"""Hugging Face checkpoint → GGUF → quantized GGUFs, with a fidelity report (the ``convert`` extra).

>>> from tg_edge.convert import ConvertOptions, convert_checkpoint
>>> convert_checkpoint("google/translategemma-4b-it", Path("out"), ConvertOptions(quants=["Q8_0", "Q4_K_M"]))
"""

from .pipeline import ConversionError, ConvertOptions, Manifest, convert_checkpoint
from .quantize import QUANT_TYPES

__all__ = ["QUANT_TYPES", "ConversionError", "ConvertOptions", "Manifest", "convert_checkpoint"]
