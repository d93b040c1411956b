"""Whether a model fits a machine, and how many of its layers fit the GPU: arithmetic on sizes, nothing loaded.

The sizes come from a GGUF header (each tensor's bytes, the attention shape in the metadata) or, for a
model not downloaded yet, from its published architecture and file size (:func:`estimate_size`). The
rules follow llama.cpp's: ``n_gpu_layers = k`` puts the *last* k repeating layers and their KV cache
on the GPU, and the output layer too once k exceeds the layer count; the token embeddings stay in RAM.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import gguf_keys as keys
from .errors import ModelError

if TYPE_CHECKING:
    from .gguf_header import GGUFHeader

MIB = 2**20
GIB = 2**30
KV_BYTES_PER_ELEMENT: Mapping[str, float] = {"f16": 2.0, "q8_0": 34 / 32}
"""Bytes per K or V element of each KV cache type tg-edge offers (``f16``, llama.cpp's default), by ggml's block
sizes: a q8_0 block holds 32 values in 34 bytes (32 int8 and an F16 scale)."""
VRAM_HEADROOM = GIB
"""GPU memory left free for the driver, its kernels and fragmentation (llama.cpp's own fitting leaves 1 GiB)."""
RAM_HEADROOM = 512 * MIB
"""RAM left free for tg-edge itself (Python, the tokenizer, the documents being translated)."""

# Bits per weight of llama.cpp's quant types, for sizing a quant from the size of another one.
BITS_PER_WEIGHT: Mapping[str, float] = {
    "Q2_K": 2.96,
    "Q3_K_S": 3.50,
    "Q3_K_M": 3.91,
    "Q3_K_L": 4.27,
    "IQ4_XS": 4.25,
    "Q4_0": 4.55,
    "Q4_K_S": 4.58,
    "Q4_K_M": 4.89,
    "Q5_0": 5.54,
    "Q5_K_S": 5.54,
    "Q5_K_M": 5.70,
    "Q6_K": 6.56,
    "Q8_0": 8.50,
    "F16": 16.0,
    "BF16": 16.0,
    "F32": 32.0,
}

_BLOCK = re.compile(r"blk\.(\d+)\.")


@dataclass(frozen=True)
class Architecture:
    """A transformer's shape, as far as memory goes."""

    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    key_length: int
    value_length: int
    n_vocab: int
    sliding_window: int = 0
    global_every: int = 0
    """With a sliding window: every n-th layer attends to the whole context (Gemma 3: 6), the others to the window."""
    attention_layers: tuple[int, ...] | None = None
    """The layers that keep a KV cache (hybrid models such as LFM2); ``None``: all of them."""
    layer_heads_kv: tuple[int, ...] | None = None
    """KV heads of each layer where the GGUF gives one count per layer (0: a recurrent layer, no KV cache)."""

    def is_swa(self, layer: int) -> bool:
        """Whether ``layer`` attends within the sliding window only (llama.cpp's ``is_swa``)."""
        return (
            self.sliding_window > 0
            and self.global_every > 0
            and layer % self.global_every < self.global_every - 1
        )

    def has_kv(self, layer: int) -> bool:
        return self.attention_layers is None or layer in self.attention_layers

    def heads_kv(self, layer: int) -> int:
        """KV heads ``layer`` caches (0 for a layer without attention)."""
        if self.layer_heads_kv is not None:
            return self.layer_heads_kv[layer]
        return self.n_head_kv if self.has_kv(layer) else 0


def gemma3(
    n_layer: int,
    n_embd: int,
    n_ff: int,
    n_head: int,
    n_head_kv: int,
    head_dim: int,
    *,
    n_vocab: int = 262_208,
    sliding_window: int = 1024,
) -> Architecture:
    """A Gemma 3 shape (TranslateGemma is one): 5 sliding-window layers to each global one."""
    return Architecture(
        n_layer,
        n_embd,
        n_ff,
        n_head,
        n_head_kv,
        head_dim,
        head_dim,
        n_vocab,
        sliding_window=sliding_window,
        global_every=6,
    )


@dataclass(frozen=True)
class Context:
    """The llama.cpp context a model runs with (tg-edge's defaults)."""

    n_ctx: int = 4096
    n_seq: int = 17
    """Sequences the context holds: the Translator's parallel ones plus one."""
    n_ubatch: int = 512
    swa_full: bool = True
    """Sliding-window layers cache the whole context (llama.cpp's default, which tg-edge's engine keeps)."""
    kv_type: str = "f16"
    """The KV cache's element type, a key of :data:`KV_BYTES_PER_ELEMENT`."""

    @property
    def cells(self) -> int:
        return _pad(self.n_ctx, 256)


@dataclass(frozen=True)
class ModelSize:
    """Where a model's bytes are: per repeating layer, in the embeddings, in the output layer."""

    arch: Architecture
    layer_bytes: tuple[int, ...]
    other_bytes: int
    """Weights outside the repeating layers (embeddings, output norm ...), in RAM unless the output goes to the GPU."""
    output_bytes: int
    """The output layer's weights on the GPU: the token embeddings again when the model ties them."""
    output_tied: bool
    estimated: bool = False
    """True when the sizes come from a published architecture and file size, not a GGUF header."""
    params_per_token: int = 0
    """Weights each decoded token is multiplied by: all of them, less the token embeddings where the model has
    an output matrix of its own (a token reads one embedding row)."""

    @property
    def weight_bytes(self) -> int:
        """All weights, as the file holds them."""
        return sum(self.layer_bytes) + self.other_bytes

    @property
    def n_layer(self) -> int:
        return len(self.layer_bytes)


@dataclass(frozen=True)
class Placement:
    """The memory a model needs with ``gpu_layers`` of its layers offloaded."""

    gpu_layers: int
    """llama.cpp's ``n_gpu_layers``: 0 for the CPU only, up to ``n_layer + 1`` for every layer and the output."""
    n_layer: int
    ram_bytes: int
    vram_bytes: int

    @property
    def how(self) -> str:
        """``gpu`` (every layer on the GPU), ``partial`` or ``cpu``."""
        if self.gpu_layers == 0:
            return "cpu"
        return "gpu" if self.gpu_layers > self.n_layer else "partial"

    def describe(self) -> str:
        if self.how == "cpu":
            return "CPU only"
        if self.how == "gpu":
            return "all layers on the GPU"
        if self.gpu_layers == self.n_layer:
            return f"all {self.n_layer} layers on the GPU, the output layer on the CPU"
        return f"{self.gpu_layers} of {self.n_layer} layers on the GPU"


@dataclass(frozen=True)
class Budget:
    """The memory a model may use: free RAM, and free memory of the GPUs llama.cpp offloads to (0: none)."""

    ram_bytes: int
    vram_bytes: int = 0
    ram_headroom: int = RAM_HEADROOM
    vram_headroom: int = VRAM_HEADROOM
    unified: bool = False
    """The GPU's memory is the RAM (Apple silicon, integrated GPUs): both placements draw on one pool."""

    @property
    def usable_ram(self) -> int:
        return max(0, self.ram_bytes - self.ram_headroom)

    @property
    def usable_vram(self) -> int:
        return max(0, self.vram_bytes - self.vram_headroom)


@dataclass(frozen=True)
class Fit:
    """How a model fits a budget: the placement with the most GPU layers that fit, and whether RAM holds the rest."""

    placement: Placement
    fits: bool
    budget: Budget

    @property
    def need(self) -> str:
        """What it takes: ``3.4 GiB RAM + 2.1 GiB GPU memory``."""
        need = f"{gib(self.placement.ram_bytes)} RAM"
        if self.placement.vram_bytes:
            need += f" + {gib(self.placement.vram_bytes)} GPU memory"
        return need

    def describe(self) -> str:
        """One line: how it runs, or why it does not fit."""
        if self.fits:
            return f"fits: {self.placement.describe()} ({self.need})"
        return f"does not fit: needs {self.need}, {gib(self.budget.usable_ram)} RAM usable"


def gib(size: int) -> str:
    return f"{size / GIB:.1f} GiB"


def size_from_header(header: GGUFHeader, *, estimated: bool = False) -> ModelSize:
    """Sizes from a GGUF header (:class:`tg_edge.gguf_header.GGUFHeader`): every tensor's bytes, the attention shape.

    Raises :class:`ModelError` when the metadata lacks the layer count or attention shape.
    """
    metadata: Mapping[str, object] = header.metadata
    sizes: dict[str, int] = header.tensor_sizes
    dims: dict[str, tuple[int, ...]] = header.tensor_dims
    arch = architecture_from_metadata(metadata, dims)
    layers = [0] * arch.n_layer
    other = 0
    for name, size in sizes.items():
        match = _BLOCK.match(name)
        if match and int(match.group(1)) < arch.n_layer:
            layers[int(match.group(1))] += size
        else:
            other += size
    tied = "output.weight" not in sizes
    output = sizes.get("token_embd.weight", 0) if tied else sizes["output.weight"]
    params = sum(math.prod(shape) for name, shape in dims.items() if tied or name != "token_embd.weight")
    return ModelSize(arch, tuple(layers), other, output, tied, estimated, params)


def architecture_from_metadata(
    metadata: Mapping[str, object], dims: Mapping[str, tuple[int, ...]]
) -> Architecture:
    """The attention shape a GGUF's metadata states (``{arch}.block_count``, ``.attention.head_count_kv`` ...)."""
    name = metadata.get(keys.ARCHITECTURE)

    def number(template: str, default: int | None = None) -> int:
        value = metadata.get(keys.for_arch(template, name))
        if isinstance(value, bool) or not isinstance(value, int):
            if default is None:
                raise ModelError(
                    f"the GGUF metadata has no {keys.for_arch(template, name)}: cannot tell how much memory "
                    "it needs"
                )
            return default
        return value

    n_layer, n_embd = number(keys.BLOCK_COUNT), number(keys.EMBEDDING_LENGTH)
    n_head = number(keys.HEAD_COUNT, 0) or 1
    # Hybrid models (LFM2) store head_count_kv per layer: 0 for a recurrent layer.
    per_layer = metadata.get(keys.for_arch(keys.HEAD_COUNT_KV, name))
    layer_heads_kv = (
        tuple(int(heads) for heads in per_layer)
        if isinstance(per_layer, tuple) and len(per_layer) == n_layer
        else None
    )
    n_head_kv = max(layer_heads_kv) if layer_heads_kv else number(keys.HEAD_COUNT_KV, n_head)
    key_length = number(keys.KEY_LENGTH, n_embd // n_head)
    embd = dims.get("token_embd.weight", ())
    return Architecture(
        n_layer=n_layer,
        n_embd=n_embd,
        n_ff=number(keys.FEED_FORWARD_LENGTH, 4 * n_embd),
        n_head=n_head,
        n_head_kv=n_head_kv,
        key_length=key_length,
        value_length=number(keys.VALUE_LENGTH, key_length),
        n_vocab=embd[1] if len(embd) > 1 else number(keys.VOCAB_SIZE, 0),
        sliding_window=number(keys.SLIDING_WINDOW, 0),
        global_every=6 if name == "gemma3" else 2 if name == "gemma2" else 0,
        layer_heads_kv=layer_heads_kv,
    )


def estimate_size(arch: Architecture, file_bytes: int) -> ModelSize:
    """Sizes of a model not downloaded yet: ``file_bytes`` shared between embeddings and layers by parameter count."""
    attention = arch.n_embd * arch.n_head * arch.key_length * 2 + arch.n_embd * arch.n_head_kv * (
        arch.key_length + arch.value_length
    )
    layer_params = attention + 3 * arch.n_embd * arch.n_ff
    embed_params = arch.n_vocab * arch.n_embd
    per_param = file_bytes / (embed_params + arch.n_layer * layer_params)
    layer = int(layer_params * per_param)
    embed = file_bytes - arch.n_layer * layer
    params = embed_params + arch.n_layer * layer_params
    return ModelSize(
        arch, (layer,) * arch.n_layer, embed, embed, True, estimated=True, params_per_token=params
    )


def quant_bytes(size_bytes: int, quant: str, to_quant: str) -> int:
    """A file's size in another quant, by bits per weight (an estimate; unknown quants keep the size)."""
    ratio = (
        BITS_PER_WEIGHT.get(to_quant.upper(), 0) / BITS_PER_WEIGHT.get(quant.upper(), 0)
        if quant.upper() in BITS_PER_WEIGHT
        else 0
    )
    return int(size_bytes * ratio) if ratio else size_bytes


def kv_bytes_per_layer(arch: Architecture, ctx: Context) -> tuple[int, ...]:
    """Bytes of each layer's K and V cache (llama.cpp's unified cache: ``n_ctx`` cells shared by the sequences)
    of ``ctx.kv_type``: a K row of ``heads_kv * key_length`` and a V row of ``heads_kv * value_length`` per cell.

    The one rule for the KV cache's size: the fit arithmetic, ``--gpu-layers auto`` and the engine's
    :attr:`~tg_edge.engine.Engine.kv_cache_bytes` all count it here. Caches shaped otherwise (DeepSeek's MLA,
    Gemma 3n's shared-KV layers) are not counted right; tg-edge's model families (Gemma 3, Llama, LFM2) have none.
    """
    if ctx.kv_type not in KV_BYTES_PER_ELEMENT:
        raise ModelError(f"kv_type must be one of {', '.join(KV_BYTES_PER_ELEMENT)}, not {ctx.kv_type!r}")
    swa_cells = (
        ctx.cells
        if ctx.swa_full
        else _pad(min(ctx.cells, arch.sliding_window * ctx.n_seq + ctx.n_ubatch), 256)
    )
    element = KV_BYTES_PER_ELEMENT[ctx.kv_type]
    return tuple(
        int(
            (swa_cells if arch.is_swa(layer) else ctx.cells)
            * arch.heads_kv(layer)
            * (arch.key_length + arch.value_length)
            * element
        )
        for layer in range(arch.n_layer)
    )


def kv_cache_bytes(arch: Architecture, ctx: Context) -> int:
    """Bytes of the whole KV cache (see :func:`kv_bytes_per_layer`)."""
    return sum(kv_bytes_per_layer(arch, ctx))


def compute_bytes(arch: Architecture, ctx: Context) -> int:
    """llama.cpp's compute buffer for one micro-batch: the logits of every token and the widest activation.

    An estimate, from the buffer llama.cpp reserves (on the demo model: 514.5 MiB, this gives 516 MiB).
    """
    return 4 * ctx.n_ubatch * (arch.n_vocab + arch.n_ff)


def output_buffer_bytes(arch: Architecture, ctx: Context) -> int:
    """The logits llama.cpp keeps in RAM: one row per sequence."""
    return 4 * ctx.n_seq * arch.n_vocab


def placement(size: ModelSize, ctx: Context, gpu_layers: int) -> Placement:
    """RAM and GPU memory ``size`` needs with ``gpu_layers`` offloaded (-1 or more than the layers: all)."""
    n_layer = size.n_layer
    k = n_layer + 1 if gpu_layers < 0 else min(gpu_layers, n_layer + 1)
    on_gpu = min(k, n_layer)
    output_on_gpu = k > n_layer
    kv = kv_bytes_per_layer(size.arch, ctx)
    split = n_layer - on_gpu
    vram = 0
    if k:
        vram = sum(size.layer_bytes[split:]) + sum(kv[split:]) + compute_bytes(size.arch, ctx)
        vram += size.output_bytes if output_on_gpu else 0
    ram = (
        size.weight_bytes
        - sum(size.layer_bytes[split:])
        + sum(kv[:split])
        + output_buffer_bytes(size.arch, ctx)
    )
    if output_on_gpu and not size.output_tied:
        ram -= size.output_bytes
    # The logits' matrix product runs where the output layer is; the CPU then keeps only the layer inputs.
    ram += 4 * ctx.n_ubatch * size.arch.n_embd * 2 if output_on_gpu else compute_bytes(size.arch, ctx)
    return Placement(k, n_layer, ram, vram)


def gpu_layers_that_fit(size: ModelSize, ctx: Context, vram_bytes: int) -> int:
    """The most layers (llama.cpp's ``n_gpu_layers``, up to ``n_layer + 1``) whose weights, KV cache and
    compute buffer fit in ``vram_bytes``; 0 when not even one does."""
    for k in range(size.n_layer + 1, 0, -1):
        if placement(size, ctx, k).vram_bytes <= vram_bytes:
            return k
    return 0


def default_parallel(n_ctx: int, *, gpu: bool) -> int:
    """How many segments a Translator decodes at once by default: on a CPU the gain levels off at about 16
    sequences, a GPU keeps gaining far beyond; a sequence needs a few hundred cells of the context."""
    return max(1, min(64 if gpu else 16, n_ctx // 256))


def fit(size: ModelSize, ctx: Context, budget: Budget) -> Fit:
    """The placement with the most GPU layers the budget's GPU memory holds, and whether RAM holds the rest."""
    k = gpu_layers_that_fit(size, ctx, budget.usable_vram) if budget.usable_vram else 0
    chosen = placement(size, ctx, k)
    ram = chosen.ram_bytes + (chosen.vram_bytes if budget.unified else 0)
    return Fit(chosen, ram <= budget.usable_ram, budget)


def _pad(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
