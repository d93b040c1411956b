"""tg-edge itself, measured through its public path: Translator for sentences and documents, Engine for speed."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..translator import Translator

if TYPE_CHECKING:
    from ..engine import Generation

Progress = Callable[[str], None]


def tg_edge_loop(
    model_path: Path,
    *,
    speed_text: str,
    sentences: Sequence[str],
    n_latency: int,
    warmup_sentence: str,
    source: str,
    target: str,
    n_decode: int,
    repeats: int,
    threads: int,
    n_ctx: int,
    gpu_layers: int,
    progress: Progress,
) -> dict[str, object]:
    """Load; decode speed on the translation prompt for ``speed_text``; per-sentence latency on the first
    ``n_latency`` sentences; ``sentences`` as one document of lines. Each part ``repeats`` times.

    Also returns the prompts it rendered, so the reference loops run on exactly the same input.
    """
    started = time.perf_counter()
    translator = Translator(model_path, threads=threads, gpu_layers=gpu_layers, n_ctx=n_ctx)
    load_s = time.perf_counter() - started
    with translator:
        engine = translator.engine
        speed_prompt = translator.render_prompt(speed_text, source=source, target=target)
        bos = engine.token_text(engine.bos_token)  # as the Translator: exactly one BOS
        tokens = engine.tokenize(speed_prompt, add_bos=engine.adds_bos and not speed_prompt.startswith(bos))
        speed = []
        for run in range(repeats + 1):
            progress(f"decode speed, {'warm-up' if run == 0 else f'run {run}/{repeats}'}")
            engine.reset()
            timing = _timed_generation(engine.generate(tokens, max_tokens=n_decode))
            if run:
                speed.append(timing)

        translator.translate(warmup_sentence, source=source, target=target)
        latency = []
        for run in range(1, repeats + 1):
            for i, sentence in enumerate(sentences[:n_latency], 1):
                progress(f"sentence {i}/{n_latency}, pass {run}/{repeats}")
                latency.append(_timed_stream(translator, sentence, source, target))

        document = "\n".join(sentences) + "\n"
        passes = []
        for run in range(1, repeats + 1):
            progress(f"document of {len(sentences)} lines, pass {run}/{repeats}")
            result = translator.translate_result(document, source=source, target=target)
            passes.append({
                "seconds": result.seconds,
                "segments": len(result.segments),
                "problems": len(result.problems),
                "outputs": [segment.text for segment in result.segments],
            })
        return {
            "load_s": load_s,
            "profile": translator.profile,
            "threads": engine.threads,
            "gpu_layers": engine.gpu_layers,
            "n_ctx": engine.n_ctx,
            "n_batch": engine.n_batch,
            "speed_prompt_tokens": tokens,
            "speed": speed,
            "latency": latency,
            "document": passes,
            "prompts": [translator.render_prompt(s, source=source, target=target) for s in sentences],
            "warmup_prompt": translator.render_prompt(warmup_sentence, source=source, target=target),
        }


def _timed_generation(generation: Generator[str, None, Generation]) -> dict[str, object]:
    """Run one generation: seconds to the first text (prompt + first token) and for the tokens after it."""
    started = time.perf_counter()
    first = None
    while True:
        try:
            next(generation)
        except StopIteration as done:
            result = done.value
            break
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    return {
        "prompt_s": (first or ended) - started,
        "decode_s": ended - first if first is not None else None,
        "n_decode": result.n_new,
        "stop": result.stop,
    }


def _timed_stream(translator: Translator, sentence: str, source: str, target: str) -> dict[str, float]:
    """One sentence through ``translate_stream``: time to the first piece of text and to the end."""
    started = time.perf_counter()
    stream = translator.translate_stream(sentence, source=source, target=target)
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    return {"ttft_s": (first or ended) - started, "seconds": ended - started}
