"""The llama.cpp engine: one model, one context, batched decoding primitives. With :mod:`tg_edge.llama_model`
(loading) and :mod:`tg_edge.projector` (images), the engine layer: the only modules that import llama_cpp at
their top (:mod:`tg_edge.machine` asks the build about its devices, lazily)."""

from __future__ import annotations

import ctypes
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import llama_cpp
import numpy as np

from . import gguf_keys
from .errors import ModelError, TgEdgeError
from .fit import KV_BYTES_PER_ELEMENT, Context, architecture_from_metadata, kv_cache_bytes
from .gguf_header import read_header
from .llama_model import load_model, read_metadata, route_llama_logs
from .machine import default_threads, gpu_available
from .models.fits import resolve_gpu_layers
from .thread_control import ThreadController

T = TypeVar("T")
KV_TYPES = {name: getattr(llama_cpp, f"GGML_TYPE_{name.upper()}") for name in KV_BYTES_PER_ELEMENT}
"""KV cache element types: llama.cpp's type of each (their sizes: :data:`tg_edge.fit.KV_BYTES_PER_ELEMENT`)."""


@dataclass(frozen=True)
class BatchToken:
    """One token of a decode batch: its position in its sequences, and whether its logits are wanted."""

    token: int
    pos: int
    seqs: tuple[int, ...]
    logits: bool = False


def follows_load(threads: int | None, gpu_layers: int) -> bool:
    """Whether an engine's thread count follows the machine's load: no count was given and every layer runs on
    the CPU (the output stays the same at any thread count: see :meth:`Engine.decode`)."""
    return threads is None and gpu_layers == 0


def pads_single_tokens(gpu_layers: int, kv_type: str, flash_attn: bool | None) -> bool:
    """Whether a one-token decode gets a second, throw-away token: llama.cpp's CPU flash attention splits a lone
    query token's KV cache into one chunk per thread and sums the chunks, so its bytes depend on the thread
    count (F16 KV, 512+ cells); two or more query tokens are split by rows and come out the same at any count."""
    return gpu_layers == 0 and kv_type == "f16" and flash_attn is not False


def on_own_thread(work: Callable[..., T], *args: object) -> T:
    """``work(*args)`` run on a new thread that ends with it.

    llama.cpp's CPU backend (OpenMP) keeps a pool of worker threads for every thread that has decoded, for
    as long as that thread lives; once the pools hold more threads than the machine has cores, OpenMP stops
    spinning between parallel regions and every decoding thread of the process runs slower (2.6x for a tiny
    model, 1.3x for the demo model on 2 cores). A decode on a long-lived thread such as the main one would
    leave its pool behind for good; a Translator's decoding thread takes its pool away when it closes."""
    with ThreadPoolExecutor(1, thread_name_prefix="tg-edge-eval") as pool:
        return pool.submit(work, *args).result()


class Engine:
    """A loaded GGUF model with one llama.cpp context holding up to ``n_seq_max`` sequences.

    The engine offers the primitives (tokenize, decode a batch, greedy tokens, KV-cache sequence
    operations); :class:`tg_edge.scheduler.Scheduler` decodes many prompts with them. All sequences
    share one unified KV cache of ``n_ctx`` cells, so copying a prompt prefix between sequences is
    free: copied cells are shared, not duplicated. ``gpu_layers``: see :func:`resolve_gpu_layers`
    (``None`` is ``"auto"``); :attr:`gpu_layers` holds the number llama.cpp got.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        gpu_layers: int | str | None = None,
        n_batch: int = 512,
        n_seq_max: int = 1,
        n_ubatch: int | None = None,
        flash_attn: bool | None = None,
        kv_type: str = "f16",
    ) -> None:
        # Set first, so that close() (and __del__) works on an engine whose loading failed midway.
        self._model: llama_cpp.llama_model_p | None = None
        self._ctx: llama_cpp.llama_context_p | None = None
        self._batch: llama_cpp.llama_batch | None = None
        self.weight_buffers: dict[str, int] = {}  # bytes of each llama.cpp weight buffer (CPU_Mapped...)
        route_llama_logs()
        llama_cpp.llama_backend_init()
        self.threads = threads or default_threads()
        self._thread_control: ThreadController | None = None
        self.thread_steps: Counter[int] = Counter()  # decoding steps run at each thread count
        self.path = Path(model_path)
        if not 1 <= n_seq_max <= llama_cpp.llama_max_parallel_sequences():
            raise TgEdgeError(
                f"n_seq_max must be 1..{llama_cpp.llama_max_parallel_sequences()}, not {n_seq_max}"
            )
        if kv_type not in KV_TYPES:
            raise TgEdgeError(f"kv_type must be one of {', '.join(KV_TYPES)}, not {kv_type!r}")
        self.kv_type = kv_type
        self.gpu_layers = resolve_gpu_layers(
            gpu_layers, self.path, n_ctx=n_ctx, n_batch=n_batch, n_seq_max=n_seq_max, kv_type=kv_type
        )
        if follows_load(threads, self.gpu_layers):
            self._thread_control = ThreadController(self.threads)  # start from every usable CPU
        self._pad_seq: int | None = None
        if (
            pads_single_tokens(self.gpu_layers, kv_type, flash_attn)
            and n_seq_max < llama_cpp.llama_max_parallel_sequences()
            and n_batch >= 2
        ):
            self._pad_seq = n_seq_max  # a sequence of its own, one past the caller's
        try:
            self._load(n_ctx, n_batch, n_seq_max, n_ubatch or n_batch, flash_attn)
        except BaseException:
            self.close()
            raise

    def _load(self, n_ctx: int, n_batch: int, n_seq_max: int, n_ubatch: int, flash_attn: bool | None) -> None:
        model, self.weight_buffers = load_model(self.path, self.gpu_layers)
        if not model:
            memory = (
                f"; with {self.gpu_layers} GPU layers the GPU may lack the memory: try --gpu-layers auto or "
                "fewer"
                if self.gpu_layers and gpu_available()
                else ""
            )
            raise ModelError(
                f"llama.cpp could not load {self.path}: the file is corrupt, truncated, or of an "
                f"architecture this llama.cpp build does not support{memory} (run with -vv for llama.cpp's log)"
            )
        self._model = model
        self.metadata: Mapping[str, str] = MappingProxyType(read_metadata(model))
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = min(n_ubatch, n_batch)
        if flash_attn is not None:
            params.flash_attn_type = (
                llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
                if flash_attn
                else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
            )
        params.n_seq_max = n_seq_max + (self._pad_seq is not None)
        params.kv_unified = True  # one pool of cells: shared prefixes are stored once
        # Sliding-window layers keep every cell too (llama.cpp's default, pinned here): a smaller
        # SWA cache could not take the prefix copies and partial removals the scheduler makes.
        params.swa_full = True
        params.type_k = params.type_v = KV_TYPES[self.kv_type]
        params.n_threads = params.n_threads_batch = self.threads
        params.no_perf = True
        ctx = llama_cpp.llama_init_from_model(model, params)
        if not ctx:
            raise ModelError(f"llama.cpp could not create a context of {n_ctx} tokens for {self.path}")
        self._ctx = ctx
        self.n_ctx: int = llama_cpp.llama_n_ctx(ctx)
        self.n_batch: int = n_batch
        self.n_seq_max: int = n_seq_max
        self.kv_cache_bytes: int = self._kv_cache_bytes()
        vocab, kv_memory = llama_cpp.llama_model_get_vocab(model), llama_cpp.llama_get_memory(ctx)
        if not vocab or not kv_memory:
            raise ModelError(f"llama.cpp gave no vocabulary or no KV cache for {self.path}")
        self._vocab: llama_cpp.llama_vocab_p = vocab
        self._n_vocab: int = llama_cpp.llama_vocab_n_tokens(vocab)
        self._memory: llama_cpp.llama_memory_t = kv_memory
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, n_seq_max)
        self._piece_buffer: ctypes.Array[ctypes.c_char] = ctypes.create_string_buffer(64)
        self._n_outputs: int = 0

    def _kv_cache_bytes(self) -> int:
        """Bytes of the attention KV cache llama.cpp allocated for this context (recurrent state not included).

        llama.cpp's C API does not tell this (only its log does), so it is the fit arithmetic's figure
        (:func:`tg_edge.fit.kv_cache_bytes`) for the file's attention shape and the context this engine creates:
        one stream (``kv_unified``), full-size sliding-window layers (``swa_full``). tests/test_engine.py and
        tests/test_convert.py check it against llama.cpp's own log line.
        """
        metadata: Mapping[str, object] = {
            key: int(value) if value.isdigit() else value for key, value in self.metadata.items()
        }
        per_layer = gguf_keys.for_arch(gguf_keys.HEAD_COUNT_KV, metadata.get(gguf_keys.ARCHITECTURE))
        if per_layer not in metadata:  # one count per layer, an array llama.cpp's metadata strings leave out
            metadata = read_header(self.path).metadata
        arch = architecture_from_metadata(metadata, {})
        return kv_cache_bytes(arch, Context(n_ctx=self.n_ctx, n_seq=self.n_seq_max, kv_type=self.kv_type))

    # -- tokens ---------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_bos: bool = False, special: bool = True) -> list[int]:
        """Tokens of ``text``; ``special`` parses markers such as ``<start_of_turn>``."""
        self._check_open()
        data = text.encode("utf-8")
        size = len(data) + 2
        while True:
            tokens = (llama_cpp.llama_token * size)()
            n = llama_cpp.llama_tokenize(self._vocab, data, len(data), tokens, size, add_bos, special)
            if n >= 0:
                return list(tokens[:n])
            size = -n

    def count_tokens(self, text: str) -> int:
        """How many tokens plain user text takes (markers in it are not special)."""
        return len(self.tokenize(text, special=False))

    def token_bytes(self, token: int) -> bytes:
        """The bytes a generated token stands for (possibly part of a UTF-8 character).

        Not thread-safe (one shared buffer): the scheduler's thread is its only caller while decoding.
        """
        size = len(self._piece_buffer)
        n = llama_cpp.llama_token_to_piece(self._vocab, token, self._piece_buffer, size, 0, False)
        if n < 0:  # the piece is longer than the buffer: -n is the size it needs
            self._piece_buffer = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, self._piece_buffer, -n, 0, False)
        return self._piece_buffer.raw[:n]

    def token_text(self, token: int) -> str:
        return llama_cpp.llama_vocab_get_text(self._vocab, token).decode("utf-8", errors="replace")

    def is_end_of_generation(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    @property
    def bos_token(self) -> int:
        return llama_cpp.llama_vocab_bos(self._vocab)

    @property
    def eos_token(self) -> int:
        return llama_cpp.llama_vocab_eos(self._vocab)

    @property
    def n_vocab(self) -> int:
        return self._n_vocab

    @property
    def n_params(self) -> int:
        return int(llama_cpp.llama_model_n_params(self._handles()[0]))

    @property
    def weight_bytes(self) -> int:
        """Bytes of tensor data in the model file (what decoding reads per token, for a dense model)."""
        return int(llama_cpp.llama_model_size(self._handles()[0]))

    @property
    def adds_bos(self) -> bool:
        """Whether the model's tokenizer wants a BOS token at the start of a prompt."""
        return bool(llama_cpp.llama_vocab_get_add_bos(self._vocab))

    @property
    def n_embd(self) -> int:
        """The width of the model's token embeddings."""
        return llama_cpp.llama_model_n_embd(self._handles()[0])

    @property
    def llama_model(self) -> llama_cpp.llama_model_p:
        """llama.cpp's model handle, for the engine layer's other parts (tg_edge.projector)."""
        return self._handles()[0]

    @property
    def llama_context(self) -> llama_cpp.llama_context_p:
        """llama.cpp's context handle, for the engine layer's other parts (tg_edge.projector)."""
        return self._handles()[1]

    def took_outputs(self, rows: int) -> None:
        """A decode made outside :meth:`decode` (tg_edge.projector's) asked for ``rows`` logits rows (0 before
        it starts, so that a failed one leaves no stale rows)."""
        self._n_outputs = rows

    @property
    def can_share_prefix(self) -> bool:
        """Whether a sequence can start from a copy of part of another one's cache.

        Recurrent and hybrid models (LFM2, Mamba) keep one state per sequence, not one entry per
        position, so a cut-off prefix cannot be taken from them.
        """
        model = self._handles()[0]
        return not (llama_cpp.llama_model_is_recurrent(model) or llama_cpp.llama_model_is_hybrid(model))

    # -- decoding primitives --------------------------------------------------------------

    def decode(self, tokens: Sequence[BatchToken]) -> None:
        """Evaluate one batch (at most ``n_batch`` tokens) into the KV cache."""
        _, ctx, batch = self._handles()
        if not 0 < len(tokens) <= self.n_batch:
            raise ValueError(f"a batch holds 1..{self.n_batch} tokens, not {len(tokens)}")
        batch.n_tokens = len(tokens)
        for i, entry in enumerate(tokens):
            batch.token[i] = entry.token
            batch.pos[i] = entry.pos
            batch.n_seq_id[i] = len(entry.seqs)
            for j, seq in enumerate(entry.seqs):
                batch.seq_id[i][j] = seq
            batch.logits[i] = entry.logits
        self._n_outputs = sum(entry.logits for entry in tokens)
        pad = self._pad_seq if len(tokens) == 1 else None
        if pad is not None:  # see pads_single_tokens: then the token's bytes do not depend on the threads
            batch.n_tokens = 2
            batch.token[1], batch.pos[1], batch.logits[1] = max(self.bos_token, 0), 0, False
            batch.n_seq_id[1], batch.seq_id[1][0] = 1, pad
        self._follow_load(ctx)
        status = llama_cpp.llama_decode(ctx, batch)
        if pad is not None:
            self.drop_sequence(pad)
        if status != 0:
            self._n_outputs = 0
            reason = "no room left in the KV cache" if status == 1 else f"status {status}"
            raise TgEdgeError(f"llama_decode failed: {reason}")

    def _follow_load(self, ctx: llama_cpp.llama_context_p) -> None:
        """Decode the next step with the threads the machine's load leaves (a fixed count stays)."""
        if self._thread_control is not None:
            threads = self._thread_control.threads()
            if threads != self.threads:
                llama_cpp.llama_set_n_threads(ctx, threads, threads)
                self.threads = threads
        self.thread_steps[self.threads] += 1

    def greedy_tokens(self) -> list[int]:
        """The most likely next token for each batch entry of the last :meth:`decode` that asked for logits."""
        if not self._n_outputs:
            return []
        tokens: list[int] = self._output_rows().argmax(axis=1).tolist()
        return tokens

    def output_logits(self, row: int) -> np.ndarray:
        """The logits of the ``row``-th batch entry that asked for them in the last :meth:`decode` (a view: read
        it before the next decode)."""
        row_logits: np.ndarray = self._output_rows()[row]
        return row_logits

    def last_logits(self) -> np.ndarray:
        """A copy of the logits of the last batch entry of the last :meth:`decode` that asked for logits."""
        if not self._n_outputs:
            raise TgEdgeError("the last decode asked for no logits")
        logits: np.ndarray = self._output_rows()[-1].copy()
        return logits

    def _output_rows(self) -> np.ndarray:
        """llama.cpp's logits of the last decode, one row per entry that asked for them (a view, no copy)."""
        pointer = llama_cpp.llama_get_logits(self._handles()[1])
        rows: np.ndarray = np.ctypeslib.as_array(pointer, shape=(self._n_outputs, self._n_vocab))
        return rows

    def evaluate(self, tokens: Sequence[int], *, seq: int = 0, pos: int = 0) -> None:
        """Evaluate ``tokens`` into sequence ``seq`` from ``pos``, in batches, logits for the last one."""
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            last = start + len(chunk) == len(tokens)
            self.decode(
                [
                    BatchToken(token, pos + start + i, (seq,), last and i == len(chunk) - 1)
                    for i, token in enumerate(chunk)
                ]
            )

    def copy_sequence(self, src: int, dst: int, length: int) -> None:
        """Let sequence ``dst`` share the cache cells of positions ``[0, length)`` of ``src``."""
        llama_cpp.llama_memory_seq_cp(self._memory, src, dst, 0, length)

    def drop_sequence(self, seq: int, start: int = 0) -> bool:
        """Remove positions ``start`` onwards of ``seq`` from the cache (False if the model cannot)."""
        return bool(llama_cpp.llama_memory_seq_rm(self._memory, seq, start, -1))

    def logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Next-token logits after every position of ``tokens`` (teacher forcing), shape (len, n_vocab).

        Decoded on a thread of its own (see :func:`on_own_thread`): callers are mostly main threads."""
        self._check_open()
        if len(tokens) > self.n_ctx:
            raise TgEdgeError(f"{len(tokens)} tokens do not fit the context of {self.n_ctx} tokens")
        return on_own_thread(self._logits, tokens)

    def _logits(self, tokens: Sequence[int]) -> np.ndarray:
        self.reset()
        out = np.empty((len(tokens), self._n_vocab), dtype=np.float32)
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            self.decode([BatchToken(token, start + i, (0,), True) for i, token in enumerate(chunk)])
            out[start : start + len(chunk)] = self._output_rows()
        return out

    def reset(self) -> None:
        """Empty the KV cache of every sequence."""
        self._check_open()
        llama_cpp.llama_memory_clear(self._memory, True)

    def close(self) -> None:
        """Free the context and model now instead of at garbage collection (safe to call twice)."""
        batch, ctx, model = (getattr(self, name, None) for name in ("_batch", "_ctx", "_model"))
        self._batch = self._ctx = self._model = None
        if batch is not None:
            llama_cpp.llama_batch_free(batch)
        if ctx is not None:
            llama_cpp.llama_free(ctx)
        if model is not None:
            llama_cpp.llama_model_free(model)

    def _check_open(self) -> None:
        self._handles()

    def _handles(self) -> tuple[llama_cpp.llama_model_p, llama_cpp.llama_context_p, llama_cpp.llama_batch]:
        """llama.cpp's model, context and batch of an open engine."""
        # llama.cpp would read freed memory (a segfault), so a closed engine refuses work.
        if self._model is None or self._ctx is None or self._batch is None:
            raise TgEdgeError("this model was closed; create a new Translator to translate again")
        return self._model, self._ctx, self._batch

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
