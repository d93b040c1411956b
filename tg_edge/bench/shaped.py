"""Random-weight GGUFs with a real model's architecture, tensor shapes and quant types, for speed benchmarks.

Decoding speed does not depend on the weights' values: a GGUF shaped like TranslateGemma 4B, with the
per-tensor types llama.cpp's own quantizer gives it and random weights, decodes exactly as fast as the
real one, which cannot be downloaded here. Its outputs are noise and it never ends a turn, so benchmarks
fix every unit's output length.

How it is made:

1. **Types from llama.cpp.** A *probe* GGUF with the shape's layer count, head counts and tensor names
   but tiny widths (multiples of 256, so no type falls back) and zero weights is quantized by
   ``llama_model_quantize``; the type llama.cpp chose for each tensor is the type of the same tensor of
   the full shape (Q4_K_M's Q6_K for the first, last and every third ``attn_v``/``ffn_down``, the tied
   embedding as the output's Q6_K, ...).
2. **Random blocks with sane scales.** Each tensor is written as random quantized blocks whose f16
   scales are set small and finite, so dequantized weights have a standard deviation of about 0.02 and
   no NaN or inf; norm weights are 1. The tokenizer (Gemma 3's 262,144 pieces) and the prompt template
   come from the demo model, which shares Gemma 3's vocabulary.

Needs the ``gguf`` package (``pip install "tg-edge[convert]"``). Files are cached by shape and quant.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ARCH = "gemma3"
CACHE_VERSION = 1  # bump when the files' contents change


@dataclass(frozen=True)
class Shape:
    """A Gemma 3 text model's hyperparameters (``config.json``'s ``text_config``)."""

    name: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int = 256
    vocab: int = 262_144
    sliding_window: int = 1024
    context: int = 131_072
    rope_base: float = 1_000_000.0
    rope_scaling: float = 8.0  # Gemma 3 4B/12B/27B: linear ×8 on the global layers

    @property
    def weights(self) -> int:
        """Parameters of the text model (the embedding counted once: it is tied to the output)."""
        attention = self.hidden * self.head_dim * (2 * self.heads + 2 * self.kv_heads)
        mlp = 3 * self.hidden * self.intermediate
        norms = 4 * self.hidden + 2 * self.head_dim
        return self.layers * (attention + mlp + norms) + self.vocab * self.hidden + self.hidden


# google/translategemma-4b-it and -12b-it (config.json, text_config); the same as Gemma 3 4B/12B.
TRANSLATEGEMMA_4B = Shape(
    "translategemma-4b-shaped", hidden=2560, intermediate=10240, layers=34, heads=8, kv_heads=4
)
TRANSLATEGEMMA_12B = Shape(
    "translategemma-12b-shaped", hidden=3840, intermediate=15360, layers=48, heads=16, kv_heads=8
)
SHAPES = {"4b": TRANSLATEGEMMA_4B, "12b": TRANSLATEGEMMA_12B}

QUANTS = {"Q4_K_M": 15, "Q8_0": 7, "Q4_0": 2, "Q5_K_M": 17}  # llama.cpp's LLAMA_FTYPE_MOSTLY_* values


def tensor_shapes(shape: Shape) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Every tensor of the text model as llama.cpp's gemma3 loader names it, with its GGUF shape (ne0 first)."""
    h, d = shape.hidden, shape.head_dim
    yield "token_embd.weight", (h, shape.vocab)
    for i in range(shape.layers):
        blk = f"blk.{i}"
        yield f"{blk}.attn_norm.weight", (h,)
        yield f"{blk}.attn_q.weight", (h, shape.heads * d)
        yield f"{blk}.attn_k.weight", (h, shape.kv_heads * d)
        yield f"{blk}.attn_v.weight", (h, shape.kv_heads * d)
        yield f"{blk}.attn_q_norm.weight", (d,)
        yield f"{blk}.attn_k_norm.weight", (d,)
        yield f"{blk}.attn_output.weight", (shape.heads * d, h)
        yield f"{blk}.post_attention_norm.weight", (h,)
        yield f"{blk}.ffn_norm.weight", (h,)
        yield f"{blk}.ffn_gate.weight", (h, shape.intermediate)
        yield f"{blk}.ffn_up.weight", (h, shape.intermediate)
        yield f"{blk}.ffn_down.weight", (shape.intermediate, h)
        yield f"{blk}.post_ffw_norm.weight", (h,)
    yield "output_norm.weight", (h,)


def build(
    shape: Shape,
    quant: str,
    directory: Path,
    *,
    template_model: Path,
    progress: Callable[[str], None] = lambda message: None,
) -> Path:
    """The shaped GGUF for ``shape`` at ``quant`` in ``directory`` (made once, then taken from there).
    ``template_model``: a Gemma 3 GGUF whose tokenizer and metadata the file copies (the demo model)."""
    if quant not in QUANTS:
        raise ValueError(f"quant must be one of {', '.join(QUANTS)}, not {quant!r}")
    key = hashlib.sha256(json.dumps([CACHE_VERSION, dataclasses.asdict(shape), quant]).encode()).hexdigest()[
        :12
    ]
    path = directory / f"{shape.name}-{quant}-{key}.gguf"
    if path.is_file():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    progress(f"asking llama.cpp which type each tensor of {shape.name} gets at {quant}")
    types = llama_cpp_types(shape, quant, directory)
    progress(f"writing {path.name} ({_size(shape, types) / 1e9:.2f} GB of random weights)")
    partial = path.with_name(path.name + ".partial")
    try:
        _write(partial, shape, types, quant, template_model)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def llama_cpp_types(shape: Shape, quant: str, directory: Path) -> dict[str, str]:
    """The quant type llama.cpp's quantizer gives each tensor of ``shape`` at ``quant`` (tensor name → type
    name), found on a probe with the same layers and names but tiny widths."""
    import gguf
    import llama_cpp

    from ..llama_model import route_llama_logs

    probe = dataclasses.replace(shape, hidden=256, intermediate=512, head_dim=64, vocab=256)
    directory.mkdir(parents=True, exist_ok=True)
    f32, quantized = directory / ".probe-f32.gguf", directory / ".probe-quantized.gguf"
    try:
        writer = gguf.GGUFWriter(str(f32), ARCH)
        _add_hparams(writer, probe)
        writer.add_file_type(gguf.LlamaFileType.ALL_F32)
        for name, dims in tensor_shapes(probe):
            writer.add_tensor(name, np.zeros(tuple(reversed(dims)), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        route_llama_logs()
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = QUANTS[quant]
        status = llama_cpp.llama_model_quantize(
            str(f32).encode(), str(quantized).encode(), ctypes.byref(params)
        )
        if status != 0:
            raise RuntimeError(f"llama.cpp could not quantize the {quant} probe (status {status})")
        return {t.name: t.tensor_type.name for t in gguf.GGUFReader(quantized).tensors}
    finally:
        f32.unlink(missing_ok=True)
        quantized.unlink(missing_ok=True)


def _add_hparams(writer, shape: Shape) -> None:
    writer.add_name(shape.name)
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.intermediate)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_key_length(shape.head_dim)
    writer.add_value_length(shape.head_dim)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(shape.rope_base)
    writer.add_sliding_window(shape.sliding_window)
    if shape.rope_scaling != 1.0:
        import gguf

        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(shape.rope_scaling)


def _write(path: Path, shape: Shape, types: dict[str, str], quant: str, template_model: Path) -> None:
    """The full-shape GGUF, one tensor of random blocks at a time (memory stays at one tensor)."""
    import gguf

    template = gguf.GGUFReader(template_model)
    writer = gguf.GGUFWriter(str(path), ARCH)
    _add_hparams(writer, shape)
    writer.add_file_type(QUANTS[quant])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for key, field in template.fields.items():  # the tokenizer (Gemma 3's vocabulary) and its settings
        if key.startswith("tokenizer."):
            _copy_field(writer, key, field)
    rng = np.random.default_rng(0)
    specs = [(name, dims, gguf.GGMLQuantizationType[types[name]]) for name, dims in tensor_shapes(shape)]
    for name, dims, kind in specs:
        block, size = gguf.GGML_QUANT_SIZES[kind]
        nbytes = int(np.prod(dims)) // block * size
        if kind in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            dtype = np.dtype(np.float32 if kind == gguf.GGMLQuantizationType.F32 else np.float16)
            writer.add_tensor_info(name, list(reversed(dims)), dtype, nbytes)
        else:  # quantized: the shape in bytes, a row of blocks as its last dimension
            rows = list(reversed(dims[1:]))
            writer.add_tensor_info(
                name, [*rows, dims[0] // block * size], np.dtype(np.uint8), nbytes, raw_dtype=kind
            )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for name, dims, kind in specs:
        writer.write_tensor_data(random_tensor(kind, dims, rng, norm=name.endswith("norm.weight")))
    writer.close()


def random_tensor(kind, dims: tuple[int, ...], rng: np.random.Generator, *, norm: bool = False) -> np.ndarray:
    """A tensor of ``kind`` (a gguf.GGMLQuantizationType) as raw bytes: random quants, small finite scales."""
    import gguf

    count = int(np.prod(dims))
    if kind == gguf.GGMLQuantizationType.F32:
        return np.ones(count, np.float32) if norm else rng.normal(0, 0.02, count).astype(np.float32)
    if kind == gguf.GGMLQuantizationType.F16:
        return rng.normal(0, 0.02, count).astype(np.float16)
    block, size = gguf.GGML_QUANT_SIZES[kind]
    data = rng.integers(0, 256, size=(count // block, size), dtype=np.uint8)
    for offset, value in _SCALES[kind.name]:  # each f16 scale of a block, at its byte offset
        data[:, offset : offset + 2] = np.frombuffer(np.float16(value).tobytes(), np.uint8)
    return data.reshape(-1)


# Byte offsets of each block's f16 scales (ggml-common.h) and values that give weights of std ≈ 0.02.
_SCALES = {
    "Q4_0": [(0, 0.005)],  # d · (q − 8), q 0..15
    "Q5_0": [(0, 0.0025)],  # d · (q − 16)
    "Q8_0": [(0, 0.0003)],  # d · q, q −128..127
    "Q4_K": [(0, 0.0001), (2, 0.0001)],  # d · sc · q − dmin · m; 6-bit sc, m
    "Q5_K": [(0, 0.00005), (2, 0.00005)],
    "Q6_K": [(208, 0.00001)],  # d · scale · (q − 32); int8 scale
}


def _copy_field(writer, key: str, field) -> None:
    import gguf

    if field.types[0] == gguf.GGUFValueType.ARRAY:
        writer.add_array(key, field.contents())
    else:
        writer.add_key_value(key, field.contents(), field.types[0])


def _size(shape: Shape, types: dict[str, str]) -> int:
    import gguf

    total = 0
    for name, dims in tensor_shapes(shape):
        block, size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[types[name]]]
        total += int(np.prod(dims)) // block * size
    return total
