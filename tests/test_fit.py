"""Fitting a model to a machine: the arithmetic on the real demo GGUF's tensor table, against given budgets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tg_edge.errors import ModelError
from tg_edge.fit import (
    GIB,
    MIB,
    Budget,
    Context,
    compute_bytes,
    estimate_size,
    fit,
    gpu_layers_that_fit,
    kv_bytes_per_layer,
    kv_cache_bytes,
    output_buffer_bytes,
    placement,
    quant_bytes,
    size_from_header,
)
from tg_edge.gguf_header import read_header
from tg_edge.machine import Device
from tg_edge.models.catalog import GEMMA3_4B, GEMMA3_27B, catalog_entry, family
from tg_edge.models.fits import catalog_fits, default_context, fit_marks, pick_largest

CTX = Context()  # tg-edge's defaults: 4096 cells, 16 parallel sequences + 1


@pytest.fixture(scope="module")
def demo_size(demo_model: Path):
    return size_from_header(read_header(demo_model))


def test_the_demo_gguf_tensor_table(demo_model: Path, demo_size) -> None:
    header = read_header(demo_model)
    arch = demo_size.arch
    assert (arch.n_layer, arch.n_embd, arch.n_head_kv, arch.key_length, arch.n_vocab) == (
        18,
        640,
        1,
        256,
        262_144,
    )
    assert arch.sliding_window == 512 and [layer for layer in range(18) if not arch.is_swa(layer)] == [
        5,
        11,
        17,
    ]
    assert len(demo_size.layer_bytes) == 18 and all(size > 0 for size in demo_size.layer_bytes)
    # every tensor byte of the file is a layer's or the rest's, once
    assert demo_size.weight_bytes == header.file_bytes - header.data_start
    assert demo_size.output_tied and demo_size.output_bytes == header.tensor_sizes["token_embd.weight"]
    assert demo_size.other_bytes >= demo_size.output_bytes and not demo_size.estimated


def test_kv_cache_per_layer_follows_llama_cpp(demo_size) -> None:
    # F16 K and V: 4096 cells x 1 KV head x (256 + 256) x 2 bytes per layer = 4 MiB, 72 MiB for 18 layers
    assert kv_bytes_per_layer(demo_size.arch, CTX) == (4 * MIB,) * 18
    # without the full-size window cache, the 15 sliding-window layers keep 512 + 512 cells (padded to 256)
    small = kv_bytes_per_layer(demo_size.arch, Context(n_seq=1, swa_full=False))
    assert sum(small) == 15 * 1024 * 1024 + 3 * 4 * MIB


def test_a_q8_0_kv_cache_is_17_32_of_f16_by_ggml_block_sizes(demo_size) -> None:
    # q8_0: blocks of 32 values in 34 bytes (32 int8 and an F16 scale) against F16's 64 bytes
    f16 = kv_bytes_per_layer(demo_size.arch, CTX)
    q8 = kv_bytes_per_layer(demo_size.arch, replace(CTX, kv_type="q8_0"))
    assert q8 == tuple(layer * 17 // 32 for layer in f16) and sum(q8) == 72 * MIB * 34 // 64
    assert kv_cache_bytes(demo_size.arch, replace(CTX, kv_type="q8_0")) == sum(q8)
    # and what runs with it: the CPU share of a q8_0 context holds the smaller cache
    assert placement(demo_size, CTX, 0).ram_bytes - placement(
        demo_size, replace(CTX, kv_type="q8_0"), 0
    ).ram_bytes == sum(f16) - sum(q8)
    with pytest.raises(ModelError, match="kv_type must be one of f16, q8_0, not 'q4_0'"):
        kv_bytes_per_layer(demo_size.arch, replace(CTX, kv_type="q4_0"))


def test_gpu_layers_auto_counts_the_kv_cache_of_its_type(demo_model: Path, demo_size) -> None:
    from tg_edge.models.fits import resolve_gpu_layers

    def auto(kv_type: str, free: int) -> int:
        gpu = Device("GPU0", "a GPU of the test's", "GPU", "CUDA", free, 8 * GIB)
        return resolve_gpu_layers("auto", demo_model, n_seq_max=17, kv_type=kv_type, gpus=[gpu])

    q8_ctx = replace(CTX, kv_type="q8_0")
    every_with_q8 = placement(demo_size, q8_ctx, -1).vram_bytes + GIB  # 1 GiB of the GPU is kept free
    assert placement(demo_size, CTX, -1).vram_bytes + GIB > every_with_q8
    assert auto("q8_0", every_with_q8) == -1  # every layer, with the q8_0 cache
    f16_layers = auto("f16", every_with_q8)  # the F16 cache is larger: fewer layers fit
    assert 0 < f16_layers <= 18 and f16_layers == gpu_layers_that_fit(demo_size, CTX, every_with_q8 - GIB)


@pytest.mark.integration
def test_kv_cache_estimate_is_what_llama_cpp_allocates(translator, demo_size) -> None:
    stats = translator.stats
    assert sum(kv_bytes_per_layer(demo_size.arch, Context(n_ctx=stats.n_ctx))) == stats.kv_cache_bytes


def test_placement_arithmetic(demo_size) -> None:
    layers, kv, compute = demo_size.layer_bytes, 4 * MIB, compute_bytes(demo_size.arch, CTX)
    cpu = placement(demo_size, CTX, 0)
    assert cpu.how == "cpu" and cpu.vram_bytes == 0
    assert cpu.ram_bytes == demo_size.weight_bytes + 18 * kv + compute + output_buffer_bytes(
        demo_size.arch, CTX
    )
    seven = placement(demo_size, CTX, 7)  # the last 7 layers, with their KV cache
    assert seven.how == "partial" and seven.describe() == "7 of 18 layers on the GPU"
    assert seven.vram_bytes == sum(layers[11:]) + 7 * kv + compute
    assert seven.ram_bytes == cpu.ram_bytes - sum(layers[11:]) - 7 * kv
    every = placement(demo_size, CTX, -1)  # and the output layer: the tied embeddings copied to the GPU
    assert every.gpu_layers == 19 and every.how == "gpu" and every == placement(demo_size, CTX, 99)
    assert every.vram_bytes == sum(layers) + 18 * kv + compute + demo_size.output_bytes
    assert every.ram_bytes < seven.ram_bytes


def test_gpu_layers_that_fit_a_budget(demo_size) -> None:
    for k in (1, 7, 18, 19):
        need = placement(demo_size, CTX, k).vram_bytes
        assert gpu_layers_that_fit(demo_size, CTX, need) == k
        assert gpu_layers_that_fit(demo_size, CTX, need - 1) == k - 1
    assert gpu_layers_that_fit(demo_size, CTX, 100 * GIB) == 19
    assert gpu_layers_that_fit(demo_size, CTX, 0) == 0


def test_fit_against_budgets(demo_size) -> None:
    need_cpu = placement(demo_size, CTX, 0).ram_bytes
    cpu_only = fit(demo_size, CTX, Budget(ram_bytes=need_cpu + Budget(0).ram_headroom))
    assert (
        cpu_only.fits and cpu_only.placement.how == "cpu" and cpu_only.describe().startswith("fits: CPU only")
    )
    too_small = fit(demo_size, CTX, Budget(ram_bytes=need_cpu))  # the headroom is not for the model
    assert not too_small.fits and too_small.describe().startswith("does not fit: needs 0.8 GiB RAM")
    seven = placement(demo_size, CTX, 7)
    partly = fit(
        demo_size, CTX, Budget(ram_bytes=8 * GIB, vram_bytes=seven.vram_bytes + GIB)
    )  # 1 GiB kept free
    assert partly.placement == seven and partly.fits
    whole = fit(demo_size, CTX, Budget(ram_bytes=GIB, vram_bytes=4 * GIB))
    assert whole.fits and whole.placement.how == "gpu" and "all layers on the GPU" in whole.describe()


def test_a_header_without_a_layer_count_is_a_clear_error(tmp_path: Path) -> None:
    from .hub import tiny_gguf

    path = tmp_path / "tiny.gguf"
    path.write_bytes(tiny_gguf())
    with pytest.raises(ModelError, match="no .*block_count"):
        size_from_header(read_header(path))


def test_estimates_from_published_shapes() -> None:
    size = estimate_size(GEMMA3_27B, 16_500_000_000)
    assert size.estimated and size.n_layer == 62 and abs(size.weight_bytes - 16_500_000_000) < 62
    assert size.output_tied and size.output_bytes == size.other_bytes
    # 62 layers x 4096 cells x 16 KV heads x (128 + 128) x 2 bytes
    assert sum(kv_bytes_per_layer(GEMMA3_27B, CTX)) == 62 * 4096 * 16 * 256 * 2
    assert GEMMA3_4B.n_layer == 34 and sum(not GEMMA3_4B.is_swa(layer) for layer in range(34)) == 5
    assert quant_bytes(2_500_000_000, "Q4_K_M", "Q8_0") == int(2_500_000_000 * 8.5 / 4.89)
    assert quant_bytes(100, "Q4_K_M", "IQ9_NONE") == 100  # unknown: the size as it is


@pytest.mark.parametrize(
    ("ram_gib", "vram_gib", "expected"),
    [
        (8, 0, {"translategemma-4b": "all", "translategemma-12b": "no", "translategemma-27b": "no"}),
        (16, 0, {"translategemma-4b": "all", "translategemma-12b": "all", "translategemma-27b": "no"}),
        (20, 0, {"translategemma-4b": "all", "translategemma-12b": "all", "translategemma-27b": "Q4_K_M"}),
        (8, 24, {"translategemma-4b": "all", "translategemma-12b": "all", "translategemma-27b": "all"}),
    ],
)
def test_which_translategemma_quants_fit(ram_gib: int, vram_gib: int, expected: dict[str, str]) -> None:
    budget = Budget(ram_gib * GIB, vram_gib * GIB)
    marks = fit_marks(
        catalog_fits(budget, default_context(gpu=vram_gib > 0), entries=family("translategemma"))
    )
    assert marks == expected


def test_unified_memory_counts_the_gpu_share_against_the_ram(demo_size) -> None:
    every = placement(demo_size, CTX, -1)
    ram = every.ram_bytes + Budget(0).ram_headroom
    separate = Budget(ram_bytes=ram, vram_bytes=every.vram_bytes + GIB)
    assert fit(demo_size, CTX, separate).fits
    assert not fit(demo_size, CTX, Budget(ram, every.vram_bytes + GIB, unified=True)).fits
    assert fit(demo_size, CTX, Budget(ram + every.vram_bytes, every.vram_bytes + GIB, unified=True)).fits


def test_a_24_gib_gpu_takes_27b_q4_whole_and_8_gib_part_of_it() -> None:
    entry = catalog_entry("translategemma-27b")
    ctx = default_context(gpu=True)
    by_vram = {
        vram: next(
            item
            for item in catalog_fits(Budget(32 * GIB, vram * GIB), ctx, entries=[entry])
            if item.quant == "Q4_K_M"
        ).fit
        for vram in (24, 8)
    }
    assert by_vram[24].placement.how == "gpu"
    assert by_vram[8].placement.how == "partial" and 0 < by_vram[8].placement.gpu_layers < 62
    assert (
        by_vram[8].placement.vram_bytes
        <= 7 * GIB
        < placement(
            estimate_size(entry.arch, int(entry.size_gb * 1e9)), ctx, by_vram[8].placement.gpu_layers + 1
        ).vram_bytes
    )


def test_pick_the_largest_that_fits_and_say_why() -> None:
    ctx = default_context(gpu=False)
    said: list[str] = []
    assert (
        pick_largest("translategemma", None, Budget(24 * GIB), ctx, say=said.append).name
        == "translategemma-27b:Q4_K_M"
    )
    assert said[-1].startswith("Picked translategemma-27b:Q4_K_M, the largest translategemma model that fits")
    assert (
        pick_largest("translategemma", None, Budget(12 * GIB), ctx, say=said.append).name
        == "translategemma-12b:Q4_K_M"
    )
    assert "translategemma-27b:Q4_K_M would need" in said[-1] and "estimated" in said[-1]
    assert pick_largest("translategemma", "Q8_0", Budget(12 * GIB), ctx).name == "translategemma-4b:Q8_0"
    with pytest.raises(
        ModelError,
        match="no translategemma model fits this machine: the smallest, "
        "translategemma-4b:Q4_K_M, needs 3.4 GiB of RAM",
    ):
        pick_largest("translategemma", None, Budget(2 * GIB), ctx)
