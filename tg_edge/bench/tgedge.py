"""tg-edge itself, measured through its public path: Translator for sentences and documents; for decode speed, the
scheduler every translation takes, on a :class:`~tg_edge.runtime.Runtime` loaded as a Translator loads it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import TgEdgeError
from ..runtime import Runtime
from ..translator import SegmentResult, Translator

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
    repeats: int,
    threads: int,
    n_ctx: int,
    gpu_layers: int,
    parallel: int | None,
    progress: Progress,
) -> dict[str, Any]:
    """Load; per-sentence latency on the first ``n_latency`` sentences; ``sentences`` as one document of
    lines, ``repeats`` times each. Decode speed is measured by :func:`tg_edge_speed`, in turns with the raw loop.

    Also returns the prompts it rendered, so the reference loops run on exactly the same input.
    """
    started = time.perf_counter()
    translator = Translator(
        model_path, threads=threads, gpu_layers=gpu_layers, n_ctx=n_ctx, parallel=parallel
    )
    load_s = time.perf_counter() - started
    with translator:
        translator.translate(warmup_sentence, source=source, target=target)
        latency = []
        for run in range(1, repeats + 1):
            for i, sentence in enumerate(sentences[:n_latency], 1):
                progress(f"sentence {i}/{n_latency}, pass {run}/{repeats}")
                latency.append(_timed_stream(translator, sentence, source, target))

        document = "\n".join(sentences) + "\n"
        passes: list[dict[str, Any]] = []
        units: Sequence[SegmentResult] = ()
        for run in range(1, repeats + 1):
            progress(f"document of {len(sentences)} lines, pass {run}/{repeats}")
            result = translator.translate(document, source=source, target=target)
            passes.append(
                {
                    "seconds": result.seconds,
                    "segments": len(result.segments),
                    "problems": len(result.problems),
                    "outputs": [segment.text for segment in result.segments],
                    "retried": [segment.attempts > 1 for segment in result.segments],
                    "lines": result.text.split("\n")[: len(sentences)],
                }
            )
            units = units or result.segments
        stats = translator.stats
        return {
            "load_s": load_s,
            "profile": translator.profile,
            "threads": stats.threads,
            "parallel": translator.parallel,
            "model_bytes": translator.model_path.stat().st_size,
            "kv_cache_bytes": stats.kv_cache_bytes,
            "gpu_layers": stats.gpu_layers,
            "n_ctx": stats.n_ctx,
            "n_batch": stats.n_batch,
            "speed_prompt_tokens": translator.prompt_tokens(speed_text, source=source, target=target),
            "latency": latency,
            "document": passes,
            # The units tg-edge translated (a line of two sentences is two units for a sentence-level
            # profile), so the reference loops translate exactly the same pieces.
            "prompts": [
                translator.render_prompt(unit.source, source=source, target=target) for unit in units
            ],
            "unit_lines": _lines_of(document, units),
            "warmup_prompt": translator.render_prompt(warmup_sentence, source=source, target=target),
        }


def _lines_of(document: str, units: Sequence[SegmentResult]) -> list[int]:
    """The line of ``document`` (0-based) each unit comes from."""
    lines: list[int] = []
    cursor = 0
    for unit in units:
        found = document.find(unit.source.strip(), cursor)
        if found < 0:
            raise TgEdgeError(f"the unit {unit.source!r} is not in the document")
        lines.append(document.count("\n", 0, found))
        cursor = found + len(unit.source.strip())
    return lines


def tg_edge_speed(
    model_path: Path,
    *,
    speed_text: str,
    source: str,
    target: str,
    n_decode: int,
    repeats: int,
    threads: int,
    n_ctx: int,
    gpu_layers: int,
    parallel: int | None,
    progress: Progress,
) -> dict[str, Any]:
    """Prompt and single-stream decode speed through the scheduler every translation takes: the translation
    prompt for ``speed_text`` from an empty cache, then up to ``n_decode`` greedy tokens; after a warm-up."""
    with Runtime(
        model_path, threads=threads, gpu_layers=gpu_layers, n_ctx=n_ctx, parallel=parallel
    ) as runtime:
        prompt = runtime.prompts.render(speed_text, runtime.language(source), runtime.language(target))
        tokens = runtime.prompt_tokens(prompt)
        scheduler = runtime.scheduler
        speed = []
        for run in range(repeats + 1):
            progress(f"decode speed, {'warm-up' if run == 0 else f'run {run}/{repeats}'}")
            scheduler.clear_cache()
            generation = scheduler.generate(tokens, max_tokens=n_decode + 1)  # + the prompt's own token
            if run:
                speed.append(
                    {
                        "prompt_s": generation.first_token_s,
                        "decode_s": generation.seconds - generation.first_token_s
                        if generation.n_new > 1
                        else None,
                        "n_decode": generation.n_new - 1,  # the first token came with the prompt
                        "stop": generation.stop,
                    }
                )
        return {"speed_prompt_tokens": tokens, "speed": speed}


def _timed_stream(translator: Translator, sentence: str, source: str, target: str) -> dict[str, float]:
    """One sentence through ``translate_stream``: time to the first piece of text and to the end."""
    started = time.perf_counter()
    stream = translator.translate_stream(sentence, source=source, target=target)
    first = None
    for _ in stream:
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    if stream.result is None:  # set when the stream ends
        raise TgEdgeError("the translation stream ended without a result")
    segment = stream.result.segments[0]
    return {
        "ttft_s": (first or ended) - started,
        "seconds": ended - started,
        "own_prompt_tokens": segment.prompt_tokens - segment.reused_tokens,
        "own_prompt_s": segment.prompt_seconds,
    }
