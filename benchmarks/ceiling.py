"""Document throughput against the batching ceiling: tg-edge's speed-up over a naive loop ÷ the ceiling's.

    python benchmarks/ceiling.py --lines 60,200

Per line count, in one process, on FLORES-200 devtest en→de with the demo model (or ``-m``):

1. **tg-edge**: one ``translate_many`` call (default options: the language guard on), timed.
2. **naive loop**: ``Llama.create_completion`` once per line on the same rendered prompts (tg-edge's
   ``bench.reference.naive_loop``: greedy, a newline stop, llama-cpp-python's own prefix reuse), timed; its
   work counted — prompt tokens it evaluated (after the prefix it kept from the previous prompt) and tokens
   it decoded.
3. **raw rates** through llama.cpp's batch API: prompt evaluation of a line-sized prompt 1 and 16 sequences
   wide, and decoding 1 and 16 sequences wide.

The ceiling is the naive loop's work done at the 16-wide rates (``P / prompt16 + D / decode16`` seconds):
no scheduler can batch better than 16 sequences at once on this machine. The issue's bar: tg-edge's speed-up
over the naive loop ≥ 0.9 of the ceiling's speed-up, i.e. ``share = ceiling seconds ÷ tg-edge seconds ≥ 0.9``.
tg-edge does other work than the naive loop (it shares the prompt prefix, checks the language and retries);
the share compares time for the same document, whatever work each did. Load time is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from tg_edge import Translator
from tg_edge.bench.flores import load_flores
from tg_edge.bench.reference import naive_loop
from tg_edge.engine import BatchToken, Engine
from tg_edge.machine import default_threads
from tg_edge.models.demo import demo_model_path

WIDE = 16


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def naive_work(engine: Engine, prompts: list[str], outputs: list[str]) -> tuple[int, int]:
    """Prompt tokens the naive loop evaluated (llama-cpp-python keeps the longest common prefix with the
    previous call's tokens and evaluates the rest, at least one) and tokens it decoded (the text and its stop)."""
    evaluated = decoded = 0
    previous: list[int] = []
    for prompt, output in zip(prompts, outputs, strict=True):
        ids = engine.tokenize(prompt, add_bos=True)
        evaluated += max(1, len(ids) - _common(previous, ids))
        made = engine.tokenize(output) if output else []
        decoded += len(made) + 1
        previous = ids + made
    return evaluated, decoded


def raw_rates(engine: Engine, prompt_len: int, steps: int) -> dict[str, float]:
    """Tokens per second of prompt evaluation and of decoding, 1 and ``WIDE`` sequences at once."""
    rates: dict[str, float] = {}
    for width in (1, WIDE):
        engine.reset()
        prompt = [
            BatchToken(1000 + (seq * 37 + i) % 5000, i, (seq,), i == prompt_len - 1)
            for seq in range(width)
            for i in range(prompt_len)
        ]
        started = time.perf_counter()
        for start in range(0, len(prompt), engine.n_batch):
            engine.decode(prompt[start : start + engine.n_batch])
        rates[f"prompt{width}"] = len(prompt) / (time.perf_counter() - started)
        started = time.perf_counter()
        for step in range(steps):
            engine.decode([BatchToken(2000 + seq, prompt_len + step, (seq,), True) for seq in range(width)])
        rates[f"decode{width}"] = width * steps / (time.perf_counter() - started)
    engine.reset()
    return rates


def measure(model: Path, lines: int, threads: int, flash_attn: bool) -> dict[str, object]:
    sources = load_flores("en", lines)
    with Translator(str(model)) as translator:
        prompts = [translator.render_prompt(s, source="en", target="de") for s in sources]
        translator.translate_many(sources[:2], source="en", target="de")  # warm: weights read, prefix cached
        before, started = translator.stats, time.perf_counter()
        translator.translate_many(sources, source="en", target="de")
        tg_edge_s = time.perf_counter() - started
        work = translator.stats.since(before)
    naive = naive_loop(
        model,
        prompts,
        warmup_prompt=prompts[0],
        repeats=1,
        threads=threads,
        gpu_layers=0,
        max_tokens=256,
        progress=lambda _: None,
    )
    naive_s = sum(naive["passes"][0]["seconds"])
    engine = Engine(model, n_ctx=4096, threads=threads, n_seq_max=WIDE, flash_attn=flash_attn)
    try:
        evaluated, decoded = naive_work(engine, prompts, naive["passes"][0]["outputs"])
        rates = raw_rates(engine, prompt_len=max(1, round(evaluated / lines)), steps=32)
    finally:
        engine.close()
    ceiling_s = evaluated / rates[f"prompt{WIDE}"] + decoded / rates[f"decode{WIDE}"]
    return {
        "lines": lines,
        "tg_edge_s": tg_edge_s,
        "tg_edge_work": {  # where tg-edge's time went (see TranslatorStats)
            "decode_steps": work.decode_steps,
            "prompt_tokens_evaluated": work.prompt_tokens_evaluated,
            "prompt_tokens_reused": work.prompt_tokens_reused,
            "tokens_generated": work.tokens_generated,
            "retries": work.retries,
            "seconds_in_llama_decode": work.decode_seconds,
            "seconds_outside": tg_edge_s - work.decode_seconds,
        },
        "naive_s": naive_s,
        "naive_prompt_tokens": evaluated,
        "naive_decoded_tokens": decoded,
        "rates": rates,
        "naive_at_1_wide_s": evaluated / rates["prompt1"] + decoded / rates["decode1"],
        "ceiling_s": ceiling_s,
        "ceiling_speedup": naive_s / ceiling_s,
        "tg_edge_speedup": naive_s / tg_edge_s,
        "share": ceiling_s / tg_edge_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="60,200", help="comma-separated line counts")
    parser.add_argument("-m", "--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None, help="naive and raw loops [default: all usable]")
    parser.add_argument(
        "--flash-attn", choices=["on", "off"], default="off", help="raw loop (the naive loop's Llama: off)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    model = args.model or demo_model_path()
    threads = args.threads or default_threads()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()}"
    )
    results = []
    for lines in (int(n) for n in args.lines.split(",")):
        r = measure(model, lines, threads, args.flash_attn == "on")
        results.append(r)
        rates = r["rates"]
        assert isinstance(rates, dict)
        print(
            f"{lines} lines: naive {r['naive_s']:.1f} s ({r['naive_prompt_tokens']} prompt + "
            f"{r['naive_decoded_tokens']} decoded tokens); raw prompt {rates['prompt1']:.0f} / "
            f"{rates[f'prompt{WIDE}']:.0f} tok/s, decode {rates['decode1']:.1f} / {rates[f'decode{WIDE}']:.1f} "
            f"tok/s (1 / {WIDE} wide); ceiling {r['ceiling_s']:.1f} s = {r['ceiling_speedup']:.2f}x; "
            f"tg-edge {r['tg_edge_s']:.1f} s = {r['tg_edge_speedup']:.2f}x; share {r['share']:.2f}\n"
            f"  tg-edge's work: {json.dumps(r['tg_edge_work'])}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
