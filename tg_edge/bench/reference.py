"""The two reference points, written against llama-cpp-python directly (so this module imports llama_cpp).

- :func:`raw_loop`: a minimal greedy loop over ``llama_decode`` through the low-level API, with the
  context settings tg-edge's engine uses: the ceiling for single-stream decoding.
- :func:`naive_loop`: what a user writes in ten lines: ``Llama(...)`` and ``create_completion`` once
  per sentence, default settings apart from threads (for prompts too, as the other two), GPU layers,
  greedy decoding and a newline stop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np

from ..errors import ModelError, TgEdgeError
from ..llama_model import model_params, route_llama_logs
from ..machine import cpu_has_amx
from .spawn import Progress


def raw_loop(
    model_path: Path,
    prompt: Sequence[int],
    *,
    n_decode: int,
    repeats: int,
    threads: int,
    n_ctx: int,
    n_batch: int,
    gpu_layers: int,
    progress: Progress,
) -> dict[str, Any]:
    """Load, then ``repeats`` times (after a warm-up): clear the cache, evaluate ``prompt``, and decode greedily
    until ``n_decode`` tokens or the end of generation, as the engine does, so both do the same work."""
    route_llama_logs()
    llama_cpp.llama_backend_init()
    started = time.perf_counter()
    model = llama_cpp.llama_model_load_from_file(str(model_path).encode(), model_params(gpu_layers))
    if not model:
        raise ModelError(f"llama.cpp could not load {model_path}")
    params = llama_cpp.llama_context_default_params()
    params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, n_batch, n_batch
    params.n_threads = params.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(model, params)
    if not ctx:
        llama_cpp.llama_model_free(model)
        raise ModelError(f"llama.cpp could not create a context for {model_path}")
    load_s = time.perf_counter() - started
    vocab = llama_cpp.llama_model_get_vocab(model)
    memory = llama_cpp.llama_get_memory(ctx)
    if not vocab or not memory:
        llama_cpp.llama_free(ctx)
        llama_cpp.llama_model_free(model)
        raise ModelError(f"llama.cpp gave no vocabulary or no KV cache for {model_path}")
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    batch = llama_cpp.llama_batch_init(n_batch, 0, 1)

    def decode(tokens: Sequence[int], pos: int) -> int:
        """Evaluate ``tokens`` from position ``pos``; the greedy next token."""
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos + i, 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = i == len(tokens) - 1
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise TgEdgeError("llama_decode failed")
        logits = llama_cpp.llama_get_logits_ith(ctx, len(tokens) - 1)
        return int(np.argmax(np.ctypeslib.as_array(logits, shape=(n_vocab,))))

    runs = []
    try:
        for run in range(repeats + 1):
            progress(f"decode speed, {'warm-up' if run == 0 else f'run {run}/{repeats}'}")
            llama_cpp.llama_memory_clear(memory, True)
            t0 = time.perf_counter()
            for start in range(0, len(prompt), n_batch):
                token = decode(prompt[start : start + n_batch], start)
            t1 = time.perf_counter()
            n_new = 0
            while n_new < n_decode and not llama_cpp.llama_vocab_is_eog(vocab, token):
                token = decode([token], len(prompt) + n_new)
                n_new += 1
            t2 = time.perf_counter()
            if run:
                runs.append({"prompt_s": t1 - t0, "decode_s": t2 - t1, "n_decode": n_new})
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)
        llama_cpp.llama_model_free(model)
    return {
        "load_s": load_s,
        "n_prompt": len(prompt),
        "runs": runs,
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(" |"),
    }


def naive_loop(
    model_path: Path,
    prompts: Sequence[str],
    *,
    warmup_prompt: str,
    repeats: int,
    threads: int,
    gpu_layers: int,
    max_tokens: int,
    progress: Progress,
    keep_prefix: bool = True,
) -> dict[str, Any]:
    """``create_completion`` once per prompt, ``repeats`` passes (after one warm-up call), each call timed.

    ``Llama`` keeps the tokens of the previous prompt in its cache and evaluates only what follows the
    longest common prefix; ``keep_prefix=False`` resets it before each call, so every prompt is
    evaluated whole (a loop that builds a fresh context per segment, as many wrappers do).
    """
    started = time.perf_counter()
    with _model_params_as_tg_edge_loads():
        llm = llama_cpp.Llama(
            model_path=str(model_path),
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=gpu_layers,
            verbose=False,
        )
    load_s = time.perf_counter() - started

    def complete(prompt: str) -> str:
        if not keep_prefix:
            llm.reset()
        out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0, stop=["\n"])
        return str(out["choices"][0]["text"]).strip()

    complete(warmup_prompt)
    passes = []
    for run in range(1, repeats + 1):
        seconds, outputs = [], []
        for i, prompt in enumerate(prompts, 1):
            progress(f"sentence {i}/{len(prompts)}, pass {run}/{repeats}")
            t0 = time.perf_counter()
            outputs.append(complete(prompt))
            seconds.append(time.perf_counter() - t0)
        passes.append({"seconds": seconds, "outputs": outputs})
    n_ctx = llm.n_ctx()
    llm.close()
    return {"load_s": load_s, "n_ctx": n_ctx, "max_tokens": max_tokens, "passes": passes}


@contextmanager
def _model_params_as_tg_edge_loads() -> Iterator[None]:
    """``Llama`` takes no parameter for llama.cpp's extra buffer types; on an AMX CPU, where tg-edge leaves
    them out (see :func:`tg_edge.llama_model.model_params`), the naive loop must too, or it crashes."""
    if not cpu_has_amx():
        yield
        return
    default = llama_cpp.llama_cpp.llama_model_default_params

    def without_extra_buffers() -> llama_cpp.llama_model_params:
        params = default()
        params.use_extra_bufts = False
        return params

    llama_cpp.llama_cpp.llama_model_default_params = without_extra_buffers
    try:
        yield
    finally:
        llama_cpp.llama_cpp.llama_model_default_params = default
