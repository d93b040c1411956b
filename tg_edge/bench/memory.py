"""Where a translator's memory goes: resident pages by kind, next to the model file plus its KV cache.

Linux only (it reads ``/proc/self/smaps``); elsewhere :func:`memory_profile` raises :class:`BenchError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import BenchError
from ..translator import Translator
from .spawn import Progress, spawn

_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$")


def resident_bytes(model_path: Path | None = None) -> dict[str, int]:
    """This process's resident memory now: ``total``, ``anonymous`` (heap and buffers), ``file`` (mapped
    files and code), and ``model`` (pages of ``model_path``'s mapping, when given)."""
    smaps = Path("/proc/self/smaps")
    if not smaps.is_file():
        raise BenchError("memory profiles need Linux's /proc/self/smaps")
    model = os.path.realpath(model_path) if model_path else None
    out = {"total": 0, "anonymous": 0, "model": 0}
    in_model = False
    with smaps.open() as lines:
        for line in lines:
            if mapping := _MAPPING.match(line):
                in_model = model is not None and mapping.group(1) == model
            elif line.startswith("Rss:"):
                kib = int(line.split()[1])
                out["total"] += kib
                out["model"] += kib if in_model else 0
            elif line.startswith("Anonymous:"):
                out["anonymous"] += int(line.split()[1])
    out = {key: kib * 1024 for key, kib in out.items()}
    out["file"] = out["total"] - out["anonymous"]
    return out


def memory_profile(
    model_path: Path,
    *,
    sentences: Sequence[str],
    source: str,
    target: str,
    threads: int,
    n_ctx: int,
    gpu_layers: int,
    parallel: int | None,
    progress: Progress,
) -> dict[str, Any]:
    """Load a Translator and translate ``sentences`` as one document, noting resident memory before the
    load, after it, and after translating. The worker adds the peak."""
    before = resident_bytes(model_path)
    progress("loading")
    translator = Translator(
        model_path, threads=threads, gpu_layers=gpu_layers, n_ctx=n_ctx, parallel=parallel
    )
    with translator:
        loaded = resident_bytes(model_path)
        progress(f"translating {len(sentences)} lines")
        result = translator.translate("\n".join(sentences) + "\n", source=source, target=target)
        translated = resident_bytes(model_path)
        stats = translator.stats
        return {
            "before_load": before,
            "loaded": loaded,
            "translated": translated,
            "model_bytes": translator.model_path.stat().st_size,
            "kv_cache_bytes": stats.kv_cache_bytes,
            "weight_buffers": dict(stats.weight_buffers),  # CPU_Mapped, CPU_REPACK (repacked copies), GPU
            "logits_bytes": stats.logits_bytes,
            "parallel": translator.parallel,
            "n_ctx": stats.n_ctx,
            "segments": len(result.segments),
            "prompt_tokens": translator.prompt_tokens(sentences[0], source=source, target=target),
        }


def compare_memory(
    model_path: Path,
    *,
    sentences: Sequence[str],
    source: str,
    target: str,
    threads: int,
    n_ctx: int,
    gpu_layers: int,
    parallel: int | None,
    progress: Progress,
) -> dict[str, Any]:
    """tg-edge translating ``sentences`` at its parallelism, and the raw llama.cpp loop decoding one sentence
    alone, each in a fresh process: what each adds to its process at peak, and where tg-edge's goes."""
    common = {"threads": threads, "n_ctx": n_ctx, "gpu_layers": gpu_layers}
    ours = spawn(
        "memory",
        "tg-edge",
        progress,
        model_path=str(model_path),
        sentences=list(sentences),
        source=source,
        target=target,
        parallel=parallel,
        **common,
    )
    raw = spawn(
        "raw",
        "raw llama.cpp, one sequence",
        progress,
        model_path=str(model_path),
        prompt=ours["prompt_tokens"],
        n_decode=32,
        repeats=1,
        n_batch=512,
        **common,
    )
    return summarize(ours, raw)


def against_model_and_kv(ours: dict[str, Any], raws: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What tg-edge's worker added to its process at peak, against the model file plus its KV cache; and the
    same for the raw llama.cpp loop (one sequence, a context of as many cells, so as large a KV cache):
    llama.cpp's own floor. The largest of ``raws`` counts."""
    used = ours["peak_rss_bytes"] - ours["rss_at_start_bytes"]
    raw_used = max(raw["peak_rss_bytes"] - raw["rss_at_start_bytes"] for raw in raws)
    budget = ours["model_bytes"] + ours["kv_cache_bytes"]
    return {
        "used_bytes": used,
        "model_bytes": ours["model_bytes"],
        "kv_cache_bytes": ours["kv_cache_bytes"],
        "ratio": used / budget,
        "raw_used_bytes": raw_used,
        "raw_ratio": raw_used / budget,
    }


def summarize(ours: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The figures of :func:`compare_memory` from its two workers' results."""
    before, loaded, translated = ours["before_load"], ours["loaded"], ours["translated"]
    figures = against_model_and_kv(ours, [raw])
    fixed_at_load = loaded["anonymous"] - before["anonymous"] - ours["kv_cache_bytes"] - ours["logits_bytes"]
    return figures | {
        "parallel": ours["parallel"],
        "n_ctx": ours["n_ctx"],
        "segments": ours["segments"],
        "peak_rss_bytes": ours["peak_rss_bytes"],
        "vs_raw": figures["used_bytes"] / figures["raw_used_bytes"],
        # At the end of the translation, counted from the process as it was before the model was loaded;
        # the parts add up to used_bytes less what was freed before the end.
        "parts": {
            "late_imports": before["total"] - ours["rss_at_start_bytes"],
            "model_pages": translated["model"],  # of the mapped file: what the load did not release
            "repacked_weights": ours["weight_buffers"].get("CPU_REPACK", 0),
            "kv_cache": ours["kv_cache_bytes"],
            "logits": ours["logits_bytes"],
            "llama_cpp_at_load": fixed_at_load,
            "grown_while_translating": translated["anonymous"] - loaded["anonymous"],
            "code_pages": translated["file"] - translated["model"] - before["file"],
        },
    }
