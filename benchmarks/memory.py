"""Where tg-edge's memory goes, per model file, next to the model file plus its KV cache.

    python benchmarks/memory.py                                  # the demo model, 60 FLORES lines en→de
    python benchmarks/memory.py a-Q4_K_M.gguf a-BF16.gguf --threads 2 --json memory.json

For each file, in fresh processes: tg-edge translates the FLORES lines as one document at its default
parallelism (or --parallel), and the raw llama.cpp loop decodes one sentence with one sequence. Prints
what each added to its process at peak (peak RSS less RSS at the worker's start), the ratio to
(model file + KV cache), and where tg-edge's resident memory sits at the end of the translation.
Linux only (reads /proc/self/smaps).
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import click

from tg_edge.bench.flores import load_flores
from tg_edge.bench.memory import compare_memory
from tg_edge.errors import TgEdgeError
from tg_edge.machine import default_threads
from tg_edge.models import resolve_model

_MIB = 2**20
_PARTS = {
    "late_imports": "modules imported after the worker's start",
    "model_pages": "model file pages",
    "kv_cache": "KV cache",
    "logits": "logits rows (one per sequence)",
    "llama_cpp_at_load": "llama.cpp's other allocations at load (vocabulary tables, graph)",
    "grown_while_translating": "grown while translating (compute buffers, Python objects)",
    "code_pages": "code pages of the libraries",
}


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("models", nargs=-1)
@click.option(
    "--lines",
    type=click.IntRange(1, 1011),
    default=60,
    show_default=True,
    help="FLORES devtest lines translated as one document.",
)
@click.option("--source", default="en", show_default=True)
@click.option("--target", default="de", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads [default: all].")
@click.option(
    "--ctx", "n_ctx", type=click.IntRange(min=256), default=4096, show_default=True, help="Context size."
)
@click.option(
    "--parallel", type=click.IntRange(min=1), help="Sequences decoded at once [default: tg-edge's]."
)
@click.option("--gpu-layers", type=int, default=0, show_default=True, help="Layers offloaded to a GPU.")
@click.option(
    "json_path", "--json", type=click.Path(dir_okay=False, path_type=Path), help="Also write JSON here."
)
def main(
    models: tuple[str, ...],
    lines: int,
    source: str,
    target: str,
    threads: int | None,
    n_ctx: int,
    parallel: int | None,
    gpu_layers: int,
    json_path: Path | None,
) -> None:
    try:
        paths = [resolve_model(name) for name in models or (None,)]
        sentences = load_flores(source, lines)
        results = {}
        for path in paths:
            click.echo(f"{path.name}:", err=True)
            results[path.name] = compare_memory(
                path,
                sentences=sentences,
                source=source,
                target=target,
                threads=threads or default_threads(),
                n_ctx=n_ctx,
                gpu_layers=gpu_layers,
                parallel=parallel,
                progress=lambda m: click.echo(m, err=True),
            )
    except TgEdgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(_table(results))
    if json_path is not None:
        json_path.write_text(
            json.dumps(
                {
                    "results": results,
                    "lines": lines,
                    "threads": threads,
                    "n_ctx": n_ctx,
                    "machine": platform.platform(),
                    "processor": platform.processor(),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )


def _table(results: dict[str, dict[str, object]]) -> str:
    names = list(results)
    rows = [
        ("", *names),
        ("file MiB", *(_mib(r["model_bytes"]) for r in results.values())),
        ("KV cache MiB", *(_mib(r["kv_cache_bytes"]) for r in results.values())),
        ("parallel sequences", *(str(r["parallel"]) for r in results.values())),
        ("process peak RSS MiB", *(_mib(r["peak_rss_bytes"]) for r in results.values())),
        ("added at peak MiB", *(_mib(r["used_bytes"]) for r in results.values())),
        ("÷ (file + KV)", *(f"{r['ratio']:.2f}" for r in results.values())),
        ("raw llama.cpp, 1 sequence, added MiB", *(_mib(r["raw_used_bytes"]) for r in results.values())),
        ("raw llama.cpp ÷ (file + KV)", *(f"{r['raw_ratio']:.2f}" for r in results.values())),
        ("tg-edge ÷ raw llama.cpp", *(f"{r['vs_raw']:.2f}" for r in results.values())),
        ("where it sits at the end, MiB:", *("" for _ in names)),
        *(
            (f"  {label}", *(_mib(r["parts"][key]) for r in results.values()))
            for key, label in _PARTS.items()
        ),
    ]
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width[0]) if i == 0 else cell.rjust(width[i]) for i, cell in enumerate(row))
        for row in rows
    )


def _mib(n: int) -> str:
    return f"{n / _MIB:,.0f}"


if __name__ == "__main__":
    main()
