"""The benchmark run: for each model file, tg-edge and its two reference points, each in a fresh process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..languages import resolve_language
from ..speed import measure_bandwidth
from .flores import load_flores
from .machine import machine_info
from .memory import against_model_and_kv
from .modelfile import ModelFile, find_models
from .quality import score
from .spawn import Progress, spawn

SPEED_SENTENCES = 6  # the decode-speed prompt translates the first six devtest sentences as one paragraph
WARMUP_LINE = 1011  # the last devtest line, outside every sentence set


@dataclass(frozen=True)
class BenchSettings:
    """What one benchmark run measures; :meth:`quick` is the few-minute preset."""

    source: str = "en"
    target: str = "de"
    sentences: int = 50
    """Per-segment latency: the first ``sentences`` FLORES devtest lines, one translation each."""
    document: int = 200
    """Document throughput: the first ``document`` lines translated as one text."""
    repeats: int = 3
    decode_tokens: int = 128
    threads: int | None = None
    gpu_layers: int | str | None = None
    """llama.cpp's GPU layers, or ``"auto"``: as many as fit, resolved for each model."""
    n_ctx: int = 4096
    n_batch: int = 512
    naive_max_tokens: int = 256
    parallel: int | None = None
    """Sequences tg-edge decodes at once (None: its default for the machine)."""

    def __post_init__(self) -> None:
        if not 1 <= self.sentences <= self.document <= WARMUP_LINE:
            raise ValueError(f"need 1 <= sentences <= document <= {WARMUP_LINE}")
        if self.repeats < 1 or self.decode_tokens < 1:
            raise ValueError("repeats and decode tokens must be at least 1")

    @classmethod
    def quick(cls, **overrides: Any) -> BenchSettings:
        """A run of a few minutes on 2 CPU cores for the demo model."""
        return replace(cls(sentences=10, document=20, repeats=2, decode_tokens=64), **overrides)


def run_bench(
    model_specs: Sequence[str],
    settings: BenchSettings,
    *,
    quants: Sequence[str] = (),
    progress: Progress = lambda message: None,
) -> dict[str, Any]:
    """Measure every model file and return all figures, machine and settings as one JSON-ready dict."""
    from ..machine import default_threads, gpu_available

    source, target = resolve_language(settings.source).code, resolve_language(settings.target).code
    sentences = load_flores(source, settings.document)  # fails early on a pair FLORES lacks
    references = load_flores(target, settings.document)
    models = find_models(model_specs, quants)
    threads = settings.threads or default_threads()
    settings = replace(
        settings,
        source=source,
        target=target,
        threads=threads,
        gpu_layers=settings.gpu_layers
        if settings.gpu_layers is not None
        else ("auto" if gpu_available() else 0),
    )
    texts = {
        "speed": " ".join(load_flores(source, SPEED_SENTENCES)),
        "warmup": load_flores(source, 1, start=WARMUP_LINE)[0],
    }
    started = time.time()
    machine = machine_info()  # the load average now tells whether the machine was busy
    progress(f"machine: measuring memory bandwidth with {settings.threads} threads")
    bandwidth = measure_bandwidth(threads)
    results = []
    for index, model in enumerate(models, 1):
        progress(f"[{index}/{len(models)}] {model.name} ({model.quant}, {model.file_bytes / 2**20:.0f} MiB)")
        results.append(_bench_model(model, settings, sentences, references, texts, bandwidth, progress))
    return {
        "tool": "tg-edge bench",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "settings": asdict(settings) | {"speed_sentences": SPEED_SENTENCES, "data": "FLORES-200 devtest"},
        "machine": machine | {"load_average_at_end": machine_info()["load_average"]},
        "bandwidth": bandwidth,
        "models": results,
    }


def _bench_model(
    model: ModelFile,
    settings: BenchSettings,
    sentences: list[str],
    references: list[str],
    texts: dict[str, str],
    bandwidth: dict[str, Any],
    progress: Progress,
) -> dict[str, Any]:
    from ..fit import default_parallel
    from ..machine import gpu_available
    from ..models.fits import resolve_gpu_layers

    _read_through(model.path)  # every process then loads from the page cache: load times compare
    # "auto" is resolved once here, so that tg-edge and the reference loops offload the same layers, for
    # the sequences the Translator will create (its default parallelism: 64 on a GPU, not 16).
    gpu = settings.gpu_layers != 0 and gpu_available()
    gpu_layers = resolve_gpu_layers(
        settings.gpu_layers,
        model.path,
        n_ctx=settings.n_ctx,
        n_batch=settings.n_batch,
        n_seq_max=(settings.parallel or default_parallel(settings.n_ctx, gpu=gpu)) + 1,
    )
    common = {"model_path": str(model.path), "threads": settings.threads, "gpu_layers": gpu_layers}
    pair = {
        "speed_text": texts["speed"],
        "source": settings.source,
        "target": settings.target,
        "n_ctx": settings.n_ctx,
        "parallel": settings.parallel,
    }
    tg = spawn(
        "tg_edge",
        "tg-edge",
        progress,
        **common,
        **pair,
        sentences=sentences,
        n_latency=settings.sentences,
        warmup_sentence=texts["warmup"],
        repeats=settings.repeats,
    )
    # Decode speed in turns, one run per process each, so that a machine's drift slows both alike.
    raws, tg_speed = [], []
    for turn in range(1, settings.repeats + 1):
        raws.append(
            spawn(
                "raw",
                f"raw llama.cpp ({turn}/{settings.repeats})",
                progress,
                **common,
                prompt=tg["speed_prompt_tokens"],
                n_decode=settings.decode_tokens,
                repeats=1,
                n_ctx=settings.n_ctx,
                n_batch=settings.n_batch,
            )
        )
        tg_speed += spawn(
            "tg_edge_speed",
            f"tg-edge decode ({turn}/{settings.repeats})",
            progress,
            **common,
            **pair,
            n_decode=settings.decode_tokens,
            repeats=1,
        )["speed"]
    raw = raws[0] | {
        "runs": [run for r in raws for run in r["runs"]],
        "load_s": statistics.median(r["load_s"] for r in raws),
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in raws),
    }
    naive_spec = {
        **common,
        "prompts": tg["prompts"],
        "warmup_prompt": tg["warmup_prompt"],
        "repeats": settings.repeats,
        "max_tokens": settings.naive_max_tokens,
    }
    naive = spawn("naive", "naive llama-cpp-python", progress, **naive_spec)
    fresh = spawn("naive", "naive, prefix each time", progress, **naive_spec, keep_prefix=False)
    chars = sum(len(s) for s in sentences)
    # Outputs unit by unit (for agreement), line by line (for quality: the references are lines).
    tg_outputs, naive_outputs = tg["document"][0]["outputs"], naive["passes"][0]["outputs"]
    tg_lines = tg["document"][0]["lines"]
    agreement = spawn(
        "agreement",
        "where outputs differ",
        progress,
        **common,
        prompts=tg["prompts"],
        ours=tg_outputs,
        theirs=naive_outputs,
        retried=tg["document"][0]["retried"],
        n_ctx=settings.n_ctx,
    )
    tg_summary = {
        "load_s": tg["load_s"],
        "profile": tg["profile"],
        **_speed(tg_speed, len(tg["speed_prompt_tokens"])),
        "latency": _percentiles([r["seconds"] for r in tg["latency"]], [r["ttft_s"] for r in tg["latency"]]),
        "document": _throughput([p["seconds"] for p in tg["document"]], len(sentences), chars)
        | {"problems": tg["document"][0]["problems"]},
        "quality": score(tg_lines, references, settings.target),
        "peak_rss_bytes": tg["peak_rss_bytes"],
        "parallel": tg["parallel"],
        "memory": against_model_and_kv(tg, raws),
        "ttft_vs_own_prompt": _ttft_ratio(tg["latency"]),
    }
    raw_summary = {
        "load_s": raw["load_s"],
        **_speed(raw["runs"], raw["n_prompt"]),
        "peak_rss_bytes": raw["peak_rss_bytes"],
        "llama_cpp_system_info": raw["llama_cpp_system_info"],
    }
    naive_summary = _naive_summary(naive, settings, tg["unit_lines"], sentences, references, chars)
    fresh_summary = _naive_summary(fresh, settings, tg["unit_lines"], sentences, references, chars)
    gbps = float(bandwidth["gb_per_s"])
    return {
        "model": {
            "path": str(model.path),
            "name": model.name,
            "quant": model.quant,
            "file_bytes": model.file_bytes,
            "tensor_bytes": model.tensor_bytes,
            "bytes_per_token": model.bytes_per_token,
        },
        "raw": raw_summary,
        "naive": naive_summary,
        "naive_fresh": fresh_summary,
        "tg_edge": tg_summary,
        "weights_gb_per_s": {"raw": _gb(model, raw_summary), "tg_edge": _gb(model, tg_summary)},
        "ratios": {
            "decode_vs_raw": _ratio(
                tg_summary["decode_tok_s"]["median"], raw_summary["decode_tok_s"]["median"]
            ),
            "prompt_vs_raw": _ratio(
                tg_summary["prompt_tok_s"]["median"], raw_summary["prompt_tok_s"]["median"]
            ),
            "document_vs_naive": _ratio(
                tg_summary["document"]["segments_per_s"], naive_summary["document"]["segments_per_s"]
            ),
            "document_vs_naive_fresh": _ratio(
                tg_summary["document"]["segments_per_s"], fresh_summary["document"]["segments_per_s"]
            ),
            "ttft_vs_own_prompt": tg_summary["ttft_vs_own_prompt"]["median"],
            "memory_vs_model_and_kv": tg_summary["memory"]["ratio"],
            "latency_p50_vs_naive": _ratio(tg_summary["latency"]["p50_s"], naive_summary["latency"]["p50_s"]),
            "tg_edge_decode_of_bandwidth": _ratio(_gb(model, tg_summary), gbps),
            "raw_decode_of_bandwidth": _ratio(_gb(model, raw_summary), gbps),
        },
        "agreement": {
            "identical_outputs": sum(a == b for a, b in zip(tg_outputs, naive_outputs, strict=True)),
            "of": len(tg_outputs),
            "differences": agreement["differences"],
            "near_tie": agreement["near_tie"],
            "retried": sum(d["retried"] for d in agreement["differences"]),
            "max_gap": max(
                (d["gap"] for d in agreement["differences"] if d["gap"] is not None), default=None
            ),
            "clear_choices": sum((d["gap"] or 0) >= agreement["near_tie"] for d in agreement["differences"]),
        },
    }


def _naive_summary(
    naive: dict[str, Any],
    settings: BenchSettings,
    unit_lines: list[int],
    sentences: list[str],
    references: list[str],
    chars: int,
) -> dict[str, Any]:
    """The naive loop's figures; it translated tg-edge's units, which are put together again by line."""
    latency_units = sum(line < settings.sentences for line in unit_lines)
    lines: list[list[str]] = [[] for _ in sentences]
    for line, output in zip(unit_lines, naive["passes"][0]["outputs"], strict=True):
        lines[line].append(output)
    return {
        "load_s": naive["load_s"],
        "n_ctx": naive["n_ctx"],
        "max_tokens": naive["max_tokens"],
        "latency": _percentiles([s for p in naive["passes"] for s in p["seconds"][:latency_units]]),
        "document": _throughput([sum(p["seconds"]) for p in naive["passes"]], len(sentences), chars),
        "quality": score([" ".join(parts) for parts in lines], references, settings.target),
        "peak_rss_bytes": naive["peak_rss_bytes"],
    }


def _ttft_ratio(latency: list[dict[str, float]]) -> dict[str, Any]:
    """Time to the first token over the time llama.cpp took for the sentence's own prompt tokens."""
    ratios = [r["ttft_s"] / r["own_prompt_s"] for r in latency if r.get("own_prompt_s")]
    return {
        "median": statistics.median(ratios) if ratios else None,
        "max": max(ratios, default=None),
        "own_prompt_tokens": statistics.median([r["own_prompt_tokens"] for r in latency]),
    }


def _read_through(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(16 * 2**20):
            pass


def _speed(runs: list[dict[str, Any]], n_prompt: int) -> dict[str, Any]:
    """Prompt and decode rates over repeated runs: median and best, with the runs themselves."""
    decoded = [r for r in runs if r["decode_s"]]
    return {
        "n_prompt": n_prompt,
        "n_decode": runs[0]["n_decode"],
        "ttft_s": _stat([r["prompt_s"] for r in runs], best=min),
        "prompt_tok_s": _stat([n_prompt / r["prompt_s"] for r in runs], best=max),
        "decode_tok_s": _stat([r["n_decode"] / r["decode_s"] for r in decoded], best=max),
        "runs": runs,
    }


def _percentiles(seconds: list[float], ttft: list[float] | None = None) -> dict[str, Any]:
    figures = {
        "n": len(seconds),
        "p50_s": float(np.percentile(seconds, 50)),
        "p95_s": float(np.percentile(seconds, 95)),
    }
    if ttft:
        figures |= {
            "ttft_p50_s": float(np.percentile(ttft, 50)),
            "ttft_p95_s": float(np.percentile(ttft, 95)),
        }
    return figures


def _throughput(seconds: list[float], segments: int, chars: int) -> dict[str, Any]:
    median = statistics.median(seconds)
    return {
        "segments": segments,
        "source_chars": chars,
        "seconds": _stat(seconds, best=min),
        "segments_per_s": segments / median,
        "chars_per_s": chars / median,
    }


def _stat(values: list[float], *, best: Callable[[list[float]], float]) -> dict[str, float | None]:
    return (
        {"median": statistics.median(values), "best": best(values)}
        if values
        else {"median": None, "best": None}
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _gb(model: ModelFile, summary: dict[str, Any]) -> float | None:
    """GB/s of weights streamed at the median decode speed."""
    rate = summary["decode_tok_s"]["median"]
    return model.bytes_per_token * rate / 1e9 if rate is not None else None
