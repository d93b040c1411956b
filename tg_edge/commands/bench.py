"""``tg-edge bench``: benchmark model files next to raw llama.cpp loops (needs the bench extra)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..cli_params import load_options, verbose_option
from ..errors import TgEdgeError

if TYPE_CHECKING:
    from ..load_options import LoadOptions


@click.command()
@verbose_option
@click.option(
    "models",
    "-m",
    "--model",
    multiple=True,
    metavar="PATH_OR_NAME",
    help="GGUF file, directory of GGUF files, or model name; repeat for several "
    "[default: TG_EDGE_MODEL or the demo model].",
)
@click.option(
    "quants",
    "--quant",
    multiple=True,
    metavar="TYPE",
    help="Only model files of this quant type (BF16, Q8_0, Q4_K_M, Q4_0, ...); repeatable.",
)
@click.option(
    "source", "-s", "--source", default="en", show_default=True, help="Source language (FLORES-200)."
)
@click.option(
    "target", "-t", "--target", default="de", show_default=True, help="Target language (FLORES-200)."
)
@click.option(
    "--quick",
    is_flag=True,
    help="A run of a few minutes: 10 sentences, a 20-line document, 2 repeats, 64 decode tokens.",
)
@click.option(
    "--sentences", type=click.IntRange(min=1), help="Sentences for per-segment latency [default: 50]."
)
@click.option(
    "--document", type=click.IntRange(min=1), help="Lines in the throughput document [default: 200]."
)
@click.option("--repeats", type=click.IntRange(min=1), help="Passes over each measurement [default: 3].")
@click.option(
    "decode_tokens",
    "--tokens",
    type=click.IntRange(min=1),
    help="Most tokens decoded by the decode-speed loops [default: 128].",
)
@load_options("threads", "gpu_layers", "n_ctx", "parallel")
@click.option(
    "out_dir",
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Directory for results.json/.md/.png.",
)
def bench(
    models: tuple[str, ...],
    quants: tuple[str, ...],
    quick: bool,
    out_dir: Path,
    load: LoadOptions,
    **options: object,
) -> None:
    """Benchmark model files: load time, time to first token, prompt and decode speed, per-segment
    latency, document throughput, peak memory and chrF++/BLEU on FLORES-200, each next to a raw
    llama.cpp loop and a naive llama-cpp-python loop on the same file and threads.

    Prints the table on stdout and writes results.json, results.md and results.png to --out.
    The FLORES-200 devtest sentences ship with tg-edge; TG_EDGE_FLORES=DIR reads another flores200
    directory of the same layout.
    """
    from importlib.util import find_spec

    missing = [name for name in ("sacrebleu", "matplotlib") if find_spec(name) is None]
    if missing:
        raise TgEdgeError(f"tg-edge bench needs {', '.join(missing)}: pip install 'tg-edge[bench]'")
    from ..bench.report import write_reports
    from ..bench.runner import BenchSettings, run_bench

    loading = {
        "threads": load.threads,
        "gpu_layers": load.gpu_layers,
        "n_ctx": load.n_ctx,
        "parallel": load.parallel,
    }
    given: dict[str, Any] = {key: value for key, value in {**options, **loading}.items() if value is not None}
    try:
        settings = BenchSettings.quick(**given) if quick else BenchSettings(**given)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    results = run_bench(
        models, settings, quants=quants, progress=lambda message: click.echo(message, err=True)
    )
    paths = write_reports(results, out_dir)
    click.echo(paths["markdown"].read_text(encoding="utf-8"), nl=False)
    click.echo(f"Wrote {', '.join(str(p) for p in paths.values())}", err=True)
