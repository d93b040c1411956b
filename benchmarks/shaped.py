"""Speed on TranslateGemma's real shapes: a random-weight 4B (or 12B) GGUF with llama.cpp's own per-tensor types.

    python benchmarks/shaped.py                                   # 4B shape, Q4_K_M, widths 1 2 4 8 16
    python benchmarks/shaped.py --shape 4b --quant Q8_0 --widths 1,16 --threads 1,2
    python benchmarks/shaped.py --flash-attn off --kv q8_0 --ubatch 128 --json out.json

The file is built once (tg_edge.bench.shaped) into $TG_EDGE_HOME/shaped/. Everything is measured in this
one run, side by side: load time (cold page cache, then warm), the memory bandwidth (numpy copy),
prompt evaluation, single-stream decode and its share of the bandwidth bound (weight bytes read per token ÷
bandwidth), time to first token, and a document of FLORES sentences in TranslateGemma's prompt, every
unit decoding a fixed number of tokens (random weights never end a turn): tg-edge's scheduler against the
raw llama.cpp parallel loop at the same width, whose ratio to raw one-sequence decode is this machine's
batching ceiling. Peak RSS against (file + KV cache) comes from benchmarks/memory.py on the same file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from tg_edge.bench.flores import load_flores
from tg_edge.bench.machine import machine_info
from tg_edge.bench.shaped import QUANTS, SHAPES, build
from tg_edge.engine import BatchToken, Engine
from tg_edge.languages import resolve_language
from tg_edge.machine import default_threads
from tg_edge.models import demo_model_path, home_dir
from tg_edge.prompts import render_translategemma
from tg_edge.scheduler import Scheduler
from tg_edge.speed import measure_bandwidth


def drop_page_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages (a cold start), without root."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def timed_load(path: Path, **engine_args: object) -> tuple[Engine, float]:
    """An engine and the seconds until it evaluated its first token (mmap'd weights are read then)."""
    started = time.perf_counter()
    engine = Engine(path, **engine_args)
    engine.evaluate([engine.bos_token])
    seconds = time.perf_counter() - started
    engine.reset()
    return engine, seconds


def decode_single(engine: Engine, steps: int) -> float:
    """Tokens per second of one sequence decoding ``steps`` tokens after a short prompt (the raw loop)."""
    engine.reset()
    prompt = engine.tokenize("Where is the train station?", add_bos=True)
    engine.evaluate(prompt)
    token, pos = engine.greedy_tokens()[-1], len(prompt)
    started = time.perf_counter()
    for _ in range(steps):
        engine.decode([BatchToken(token, pos, (0,), True)])
        token, pos = engine.greedy_tokens()[-1], pos + 1
    return steps / (time.perf_counter() - started)


def prompt_speed(engine: Engine, tokens: int) -> float:
    engine.reset()
    ids = [engine.bos_token] + [1000 + i % 5000 for i in range(tokens - 1)]
    started = time.perf_counter()
    engine.evaluate(ids)
    return tokens / (time.perf_counter() - started)


def raw_parallel(engine: Engine, prompts: list[list[int]], width: int, new_tokens: int) -> dict[str, float]:
    """The raw llama.cpp loop: waves of ``width`` prompts, each wave's prompts in shared batches, then
    ``width`` tokens a step for ``new_tokens`` steps. Seconds and new tokens per second."""
    engine.reset()
    started = time.perf_counter()
    decoding = 0.0
    for wave in range(0, len(prompts), width):
        group = prompts[wave : wave + width]
        entries = [
            BatchToken(t, i, (seq,), i == len(p) - 1) for seq, p in enumerate(group) for i, t in enumerate(p)
        ]
        tokens: list[int] = []
        for start in range(0, len(entries), engine.n_batch):
            engine.decode(entries[start : start + engine.n_batch])
            tokens += engine.greedy_tokens()  # the prompts whose last token was in this batch
        positions = [len(p) for p in group]
        decode_started = time.perf_counter()
        for _ in range(new_tokens - 1):
            engine.decode([BatchToken(t, positions[s], (s,), True) for s, t in enumerate(tokens)])
            tokens = engine.greedy_tokens()
            positions = [p + 1 for p in positions]
        decoding += time.perf_counter() - decode_started
        engine.reset()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "tokens_per_s": len(prompts) * new_tokens / seconds,
        "decode_tokens_per_s": len(prompts) * (new_tokens - 1) / decoding,
    }


def tg_edge_document(
    engine: Engine, prompts: list[list[int]], width: int, new_tokens: int
) -> dict[str, float]:
    """tg-edge's scheduler on the same prompts at ``parallel=width`` (continuous batching, shared prefix)."""
    engine.reset()
    scheduler = Scheduler(engine, parallel=width)
    try:
        started = time.perf_counter()
        jobs = scheduler.submit_many(prompts, max_tokens=[new_tokens] * len(prompts))
        generations = [job.result() for job in jobs]
        seconds = time.perf_counter() - started
    finally:
        scheduler.close()
    made = sum(g.n_new + (g.stop == "eos") for g in generations)  # an end-of-turn token is decoded too
    return {
        "seconds": seconds,
        "tokens_per_s": made / seconds,
        "new_tokens": made,
        "ttft_s": min(g.first_token_s for g in generations),
    }


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--shape", type=click.Choice(list(SHAPES)), default="4b", show_default=True)
@click.option("--quant", type=click.Choice(list(QUANTS)), default="Q4_K_M", show_default=True)
@click.option(
    "--widths", default="1,2,4,8,16", show_default=True, help="Parallel sequences for the document."
)
@click.option(
    "--units",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Document units (FLORES lines).",
)
@click.option(
    "--new-tokens",
    type=click.IntRange(min=2),
    default=24,
    show_default=True,
    help="Tokens every unit decodes.",
)
@click.option("--decode-steps", type=click.IntRange(min=1), default=16, show_default=True)
@click.option(
    "--threads", "threads_list", default=None, help="Comma-separated thread counts [default: all CPUs]."
)
@click.option("--flash-attn", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True)
@click.option("--kv", type=click.Choice(["f16", "q8_0"]), default="f16", show_default=True)
@click.option("--ubatch", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--ctx", "n_ctx", type=click.IntRange(min=512), default=4096, show_default=True)
@click.option("--skip-cold", is_flag=True, help="Do not drop the page cache for a cold load.")
@click.option("--no-raw", is_flag=True, help="tg-edge's document only (comparing settings): no raw loop.")
@click.option("json_path", "--json", type=click.Path(dir_okay=False, path_type=Path))
def main(
    shape: str,
    quant: str,
    widths: str,
    units: int,
    new_tokens: int,
    decode_steps: int,
    threads_list: str | None,
    flash_attn: str,
    kv: str,
    ubatch: int,
    n_ctx: int,
    skip_cold: bool,
    no_raw: bool,
    json_path: Path | None,
) -> None:
    say = lambda message: click.echo(message, err=True)  # noqa: E731
    path = build(SHAPES[shape], quant, home_dir() / "shaped", template_model=demo_model_path(), progress=say)
    size = path.stat().st_size
    en, de = resolve_language("en"), resolve_language("de")
    sentences = load_flores("en", units)
    flash = {"auto": None, "on": True, "off": False}[flash_attn]
    widths_list = [int(w) for w in widths.split(",")]
    results: dict[str, object] = {
        "machine": machine_info(),
        "file": path.name,
        "file_bytes": size,
        "settings": {
            "flash_attn": flash_attn,
            "kv": kv,
            "ubatch": ubatch,
            "ctx": n_ctx,
            "units": units,
            "new_tokens": new_tokens,
        },
        "runs": [],
    }
    for threads in [int(t) for t in threads_list.split(",")] if threads_list else [default_threads()]:
        say(f"{path.name}: {threads} threads; measuring memory bandwidth")
        bandwidth = measure_bandwidth(threads)
        args = dict(
            n_ctx=n_ctx,
            threads=threads,
            gpu_layers=0,
            n_seq_max=max(widths_list) + 1,
            n_ubatch=ubatch,
            flash_attn=flash,
            kv_type=kv,
        )
        cold = None
        if not skip_cold:
            drop_page_cache(path)
            engine, cold = timed_load(path, **args)
            engine.close()
        engine, warm = timed_load(path, **args)
        try:
            run: dict[str, object] = {
                "threads": threads,
                "bandwidth_gb_per_s": bandwidth["gb_per_s"],
                "load_cold_s": cold,
                "load_warm_s": warm,
                "weight_bytes": engine.weight_bytes,
                "kv_bytes": engine.kv_cache_bytes,
            }
            say("prompt evaluation")
            run["prompt_tok_per_s"] = prompt_speed(engine, 256)
            say("single-stream decode")
            single = decode_single(engine, decode_steps)
            bound = bandwidth["gb_per_s"] * 1e9 / engine.weight_bytes
            run.update(
                decode_tok_per_s=single, bandwidth_bound_tok_per_s=bound, decode_of_bound=single / bound
            )
            prompts = [engine.tokenize(render_translategemma(s, en, de), special=True) for s in sentences]
            documents = []
            for width in widths_list:
                say(f"document: {units} units × {new_tokens} tokens at width {width}")
                ours = tg_edge_document(engine, prompts, width, new_tokens)
                if no_raw:
                    documents.append({"width": width, "tg_edge": ours})
                    say(f"  tg-edge {ours['tokens_per_s']:.2f} tok/s")
                    continue
                raw = raw_parallel(engine, prompts, width, new_tokens)
                documents.append(
                    {
                        "width": width,
                        "raw": raw,
                        "tg_edge": ours,
                        "tg_edge_vs_raw": ours["tokens_per_s"] / raw["tokens_per_s"],
                        "raw_vs_single": raw["decode_tokens_per_s"] / single,
                    }
                )
                say(
                    f"  raw {raw['tokens_per_s']:.2f} tok/s, tg-edge {ours['tokens_per_s']:.2f} tok/s "
                    f"({documents[-1]['tg_edge_vs_raw']:.2f}×), ceiling {documents[-1]['raw_vs_single']:.2f}×"
                )
            run["documents"] = documents
            run["ttft_s"] = tg_edge_document(engine, prompts[:1], 1, 2)["ttft_s"]
        finally:
            engine.close()
        results["runs"].append(run)
    click.echo(render(results))
    if json_path:
        json_path.write_text(json.dumps(results, indent=2), encoding="utf-8")


def render(results: dict[str, object]) -> str:
    machine = results["machine"]
    lines = [
        f"{results['file']} ({results['file_bytes'] / 1e9:.2f} GB) on {machine.get('cpu')} "
        f"({machine.get('usable_cpus')} CPUs, load {machine.get('load_average')}); "
        f"settings {results['settings']}",
        "",
    ]
    for run in results["runs"]:
        cold = f"{run['load_cold_s']:.1f} s" if run["load_cold_s"] is not None else "—"
        lines += [
            f"threads {run['threads']}: bandwidth {run['bandwidth_gb_per_s']:.1f} GB/s; load cold {cold}, warm "
            f"{run['load_warm_s']:.1f} s; prompt {run['prompt_tok_per_s']:.1f} tok/s; decode "
            f"{run['decode_tok_per_s']:.2f} tok/s = {run['decode_of_bound']:.0%} of the bandwidth bound "
            f"({run['bandwidth_bound_tok_per_s']:.2f} tok/s); TTFT {run['ttft_s']:.2f} s",
            "",
            "| width | raw loop: document tok/s | its decode tok/s | tg-edge: document tok/s | tg-edge ÷ raw "
            "| ceiling: raw decode ÷ 1-sequence decode |",
            "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {d['width']} | {d['raw']['tokens_per_s']:.2f} | {d['raw']['decode_tokens_per_s']:.2f} | "
            f"{d['tg_edge']['tokens_per_s']:.2f} | {d['tg_edge_vs_raw']:.2f} | {d['raw_vs_single']:.2f} |"
            if "raw" in d
            else f"| {d['width']} | — | — | {d['tg_edge']['tokens_per_s']:.2f} | — | — |"
            for d in run["documents"]
        ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
