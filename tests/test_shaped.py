"""The shaped-model builder on a tiny shape: llama.cpp's own per-tensor types, finite weights, a model that runs."""

from __future__ import annotations

import ctypes
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tg_edge.bench.shaped import TRANSLATEGEMMA_4B, Shape, build, tensor_shapes
from tg_edge.gguf_header import read_header

gguf = pytest.importorskip("gguf")
pytestmark = pytest.mark.integration

TINY = Shape("tiny-shaped", hidden=256, intermediate=512, layers=9, heads=4, kv_heads=2, head_dim=64)


def quantized_by_llama_cpp(shape: Shape, quant_ftype: int, directory: Path) -> dict[str, str]:
    """The types llama.cpp's quantizer gives every tensor of ``shape`` itself (no probe), from an F32 file."""
    import llama_cpp

    f32, out = directory / "f32.gguf", directory / "q.gguf"
    writer = gguf.GGUFWriter(str(f32), "gemma3")
    from tg_edge.bench.shaped import _add_hparams

    _add_hparams(writer, dataclasses.replace(shape, vocab=512))
    for name, dims in tensor_shapes(dataclasses.replace(shape, vocab=512)):
        writer.add_tensor(name, np.zeros(tuple(reversed(dims)), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = quant_ftype
    assert llama_cpp.llama_model_quantize(str(f32).encode(), str(out).encode(), ctypes.byref(params)) == 0
    return {t.name: t.tensor_type.name for t in gguf.GGUFReader(out).tensors}


def test_a_tiny_shape_gets_llama_cpps_types_finite_weights_and_runs(demo_model: Path, tmp_path: Path) -> None:
    from tg_edge.engine import Engine

    path = build(TINY, "Q4_K_M", tmp_path / "shaped", template_model=demo_model)
    assert build(TINY, "Q4_K_M", tmp_path / "shaped", template_model=demo_model) == path  # cached
    # The header alone (gguf's GGUFReader would parse the 262k-piece vocabulary too, for seconds).
    ours = {
        name: gguf.GGMLQuantizationType(kind).name for name, kind in read_header(path).tensor_types.items()
    }
    assert ours == quantized_by_llama_cpp(
        TINY, 15, tmp_path
    )  # Q4_K_M's mix, as llama.cpp quantizes this shape
    assert {"Q4_K", "Q6_K", "F32"} == set(ours.values())
    assert [name for name, _ in tensor_shapes(TINY)] == list(ours)

    with Engine(path, n_ctx=256, threads=2) as engine:
        assert engine.metadata["general.architecture"] == "gemma3"
        assert engine.n_embd == TINY.hidden and engine.n_vocab == TINY.vocab
        prompt = engine.tokenize("Where is the train station?", add_bos=True)
        logits = engine.logits(prompt)
        assert np.isfinite(logits).all() and logits.std() > 0  # sane scales: no NaN, no inf, not constant


def test_the_4b_shape_is_translategemma_4bs_text_model() -> None:
    """google/translategemma-4b-it's text_config: 3.88 B parameters with the 262,144-token embedding."""
    assert (TRANSLATEGEMMA_4B.hidden, TRANSLATEGEMMA_4B.intermediate, TRANSLATEGEMMA_4B.layers) == (
        2560,
        10240,
        34,
    )
    assert (TRANSLATEGEMMA_4B.heads, TRANSLATEGEMMA_4B.kv_heads, TRANSLATEGEMMA_4B.head_dim) == (8, 4, 256)
    assert 3.8e9 < TRANSLATEGEMMA_4B.weights < 3.95e9
