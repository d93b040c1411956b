"""``python -m tg_edge.convert`` / ``tg-edge convert``: the conversion pipeline from the command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import click

from ..errors import TgEdgeError
from .hf_to_gguf import OUTTYPES
from .pipeline import ConvertOptions, convert_checkpoint
from .quantize import QUANT_TYPES, parse_quants


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("checkpoint")
@click.option(
    "quant",
    "-q",
    "--quant",
    default="q8_0,q4_k_m",
    show_default=True,
    help=f"Comma-separated quant types: {', '.join(t.lower() for t in QUANT_TYPES)}.",
)
@click.option(
    "out",
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory for the GGUF files and manifest.json.",
)
@click.option(
    "--outtype",
    type=click.Choice(OUTTYPES),
    default="bf16",
    show_default=True,
    help="Precision of the unquantized GGUF (the fidelity reference).",
)
@click.option("--mmproj", is_flag=True, help="Also export the vision projector (Gemma 3 / TranslateGemma).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option(
    "pre_tokenizer",
    "--pre-tokenizer",
    help="Name the BPE pre-tokenizer (e.g. llama-bpe, lfm2) when a fine-tune's tokenizer is not recognized.",
)
@click.option(
    "sample_file",
    "--sample",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Fidelity sample: a UTF-8 file, one text per line [default: FLORES-200 devtest, 8 languages].",
)
@click.option(
    "per_language",
    "--sample-per-language",
    type=click.IntRange(1, 100),
    default=4,
    show_default=True,
    help="FLORES sentences per language in the default sample.",
)
@click.option(
    "reference_check",
    "--reference-check/--no-reference-check",
    default=True,
    show_default=True,
    help="Compare the unquantized GGUF with the checkpoint run in transformers.",
)
@click.option("--revision", help="Hub revision (branch, tag or commit) when CHECKPOINT is a repo id.")
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads for quantization and checks.")
@click.option("json_", "--json", is_flag=True, help="Print the manifest as JSON instead of a table.")
def main(
    checkpoint: str,
    quant: str,
    out: Path,
    outtype: str,
    mmproj: bool,
    force: bool,
    pre_tokenizer: str | None,
    sample_file: Path | None,
    per_language: int,
    reference_check: bool,
    revision: str | None,
    threads: int | None,
    json_: bool,
) -> None:
    """Convert a Hugging Face CHECKPOINT (directory or hub repo id) to GGUF, quantize it, and check fidelity."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        click.echo(f"{message}  ({time.perf_counter() - started:.0f}s)", err=True)

    try:
        options = ConvertOptions(
            quants=parse_quants(quant),
            outtype=outtype,
            mmproj=mmproj,
            force=force,
            pre_tokenizer=pre_tokenizer,
            sample_file=sample_file,
            sample_per_language=per_language,
            reference_check=reference_check,
            threads=threads,
            revision=revision,
        )
        manifest = convert_checkpoint(checkpoint, out, options, progress)
    except TgEdgeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    if json_:
        click.echo(json.dumps(manifest.data, indent=2))
    else:
        click.echo(format_table(manifest.data))
        click.echo(f"manifest: {manifest.path}", err=True)


def format_table(data: dict) -> str:
    """The manifest's files as a Markdown table."""
    rows = [
        "| file | quant | size MiB | bits/weight | mean KL | top-1 agree | PPL (ref PPL) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in data["files"]:
        fid = entry.get("fidelity")
        cells = [
            entry["file"],
            entry["quant"],
            f"{entry['size_bytes'] / 2**20:.1f}",
            f"{entry['bits_per_weight']:.2f}" if "bits_per_weight" in entry else "—",
        ]
        if fid:
            cells += [
                f"{fid['mean_kl']:.4f}",
                f"{fid['top1_agreement']:.3f}",
                f"{fid['perplexity']:.2f} ({fid['reference_perplexity']:.2f})",
            ]
        else:
            cells += ["reference" if entry["role"] == "model" else "—", "—", "—"]
        rows.append("| " + " | ".join(cells) + " |")
    ref = data["reference_check"]
    if ref["verdict"] == "skipped":
        rows.append("\nreference check against transformers: skipped")
    else:
        rows.append(
            f"\n{data['reference']} vs transformers: {ref['verdict']} — top-1 agreement "
            f"{ref['top1_agreement']:.3f}, mean KL {ref['mean_kl']:.5f}, max |Δlogit| "
            f"{ref['max_abs_logit_diff']:.3f} over {ref['tokens']} tokens"
        )
    return "\n".join(rows)


def run() -> None:
    logging.getLogger("tg_edge").setLevel(logging.WARNING)
    main(prog_name="tg-edge convert")
