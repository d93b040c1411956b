"""``tg-edge translate``: its options, the checks between them, and which mode runs (text, files, images, Ray)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..cli_params import load_options, terms_options, verbose_option
from ..fileio import check_output
from ..formats import FORMATS

if TYPE_CHECKING:
    from ..load_options import LoadOptions


@click.command()
@verbose_option
@click.argument("text", required=False)
@click.option(
    "source",
    "-s",
    "--source",
    required=True,
    help="Source language code, e.g. en, or auto to detect it from the text.",
)
@click.option("target", "-t", "--target", required=True, help="Target language code, e.g. de.")
@click.option(
    "inputs",
    "-i",
    "--input",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A file or directory to translate (UTF-8 text, DOCX or PDF); repeat for several. Directories "
    "are searched for files of a known format.",
)
@click.option(
    "images",
    "--image",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="An image whose text to translate (PNG, JPEG, WebP, GIF, BMP, TIFF; needs a TranslateGemma model "
    "and its vision projector); repeat for several. Images in -i directories are taken too.",
)
@click.option(
    "output_path",
    "-o",
    "--output",
    type=click.Path(),
    help="Output file, or directory for several inputs or one ending in / (written atomically) "
    "[default: stdout].",
)
@click.option(
    "format_",
    "-f",
    "--format",
    type=click.Choice(list(FORMATS)),
    help="Format of every input [default: by extension; unknown extensions are plain text].",
)
@click.option(
    "pdf_layout",
    "--pdf-layout",
    type=click.Choice(["translated", "bilingual"]),
    default="translated",
    help="PDF inputs: the translated pages, or each source page followed by its translation (bilingual). "
    "An output named .md (or --format md) gets the translated text.",
)
@click.option(
    "--fields",
    metavar="NAMES",
    help="JSONL: the string fields to translate, comma-separated dotted paths "
    "(instruction,output or messages.*.content); other fields stay byte for byte.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Go on with an interrupted job: finished records and segments are not translated again.",
)
@click.option(
    "skip_bad",
    "--skip-bad",
    is_flag=True,
    help="Skip bad files and malformed JSONL records (reported at the end) instead of stopping.",
)
@click.option(
    "batch",
    "--batch",
    type=click.IntRange(min=1),
    metavar="N",
    help="Segments (JSONL: records) handed to the model at once and journaled together "
    "[default: 64 segments or 128 records, fewer when they reach 12,000 characters].",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars on stderr [default: when stderr is a terminal].",
)
@load_options()
@click.option("--stream", is_flag=True, help="Print tokens as they are generated.")
@terms_options
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 3 if any segment was still cut, looped, empty, of a suspect length or "
    "without a required glossary term "
    "after retrying (files are written all the same).",
)
@click.option(
    "json_", "--json", is_flag=True, help="Print a JSON object with the translation and its details."
)
@click.option(
    "show_prompt",
    "--show-prompt",
    is_flag=True,
    help="Print the prompt the model would get for the first line, and exit.",
)
@click.option(
    "ray_address",
    "--ray",
    is_flag=False,
    flag_value="local",
    metavar="[ADDRESS]",
    help="Translate a JSONL or Parquet dataset on Ray: --ray alone starts a local Ray, --ray ADDRESS "
    "(auto, HOST:6379, ray://HOST:10001) joins a cluster. Needs the ray extra.",
)
@click.option(
    "--replicas",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --ray: Translator actors [default: what the cluster's CPUs or GPUs allow]; --threads "
    "is per replica.",
)
@click.option(
    "gpus_per_replica",
    "--gpus-per-replica",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="G",
    help="With --ray: GPUs each replica holds [default: 0, CPU only].",
)
def translate(
    text: str | None,
    source: str,
    target: str,
    inputs: tuple[Path, ...],
    images: tuple[Path, ...],
    output_path: str | None,  # a string: a trailing / (a directory) survives
    format_: str | None,
    pdf_layout: str,
    fields: str | None,
    resume: bool,
    skip_bad: bool,
    batch: int | None,
    progress: bool | None,
    stream: bool,
    glossary_files: tuple[Path, ...],
    keep_terms: tuple[str, ...],
    keep_files: tuple[Path, ...],
    strict: bool,
    json_: bool,
    show_prompt: bool,
    ray_address: str | None,
    replicas: int | None,
    gpus_per_replica: float,
    load: LoadOptions,
) -> None:
    """Translate TEXT (or -i FILES/DIRS, or stdin) from -s SOURCE to -t TARGET.

    Lines, blank lines and indentation come back exactly as they were. Files keep their format
    (text, Markdown, HTML, SRT, WebVTT, JSONL, DOCX, PDF): only the text is translated, the markup,
    timestamps and untranslated fields stay byte for byte.
    """
    from ..glossary import load_terms
    from ..jobs import JobOptions
    from ..languages import AUTO, is_auto
    from ..languages.profiles import accepted_language
    from ..translator import TranslationOptions

    # Every usage error and each language, resolved once here, before a model is loaded.
    src = AUTO if is_auto(source) else accepted_language(source)
    tgt = accepted_language(target)
    _check_text(text, inputs, images, stream, json_)
    if output_path is not None:  # every mode: never over an input, never into a place that cannot be written
        check_output(output_path, [*inputs, *images])
    terms = load_terms(
        glossary_files, keep_terms, keep_files, source=None if src == AUTO else src, target=tgt
    )
    options = TranslationOptions(strict=strict, glossary=terms)
    ray = ray_address is not None or replicas is not None or bool(gpus_per_replica)
    if ray and ray_address is None:
        raise click.UsageError("--replicas and --gpus-per-replica go with --ray")
    _check_mode(text, inputs, images, output_path, format_, fields, stream, json_, show_prompt, ray)
    sizes: dict[str, int] = {}
    if batch:  # records and segments a chunk; on Ray records a block (its segments' chunks stay as they were)
        sizes = {"chunk_records": batch} if ray else {"chunk_records": batch, "chunk_segments": batch}
    job = JobOptions(
        source=src,
        target=tgt,
        format=format_,
        fields=fields,
        resume=resume,
        skip_bad=skip_bad,
        progress=progress,
        translation=options,
        pdf_layout="pdf" if pdf_layout == "translated" else pdf_layout,
        **sizes,
    )
    if ray_address is not None:
        from .dataset import translate_dataset

        translate_dataset(
            inputs,
            output_path,
            job,
            load,
            address=ray_address,
            replicas=replicas,
            gpus_per_replica=gpus_per_replica,
        )
    elif images and output_path is None and not inputs:
        from .images import translate_images

        translate_images(images, src, tgt, options=options, json_=json_, show_prompt=show_prompt, load=load)
    elif (inputs or images or format_) and not (stream or json_ or show_prompt):
        from .files import translate_files

        translate_files(inputs + images, output_path, job, load)
    else:
        from .text import translate_text

        first = (inputs + images)[0] if inputs or images else None
        translate_text(
            text,
            first,
            output_path,
            src,
            tgt,
            options=options,
            stream=stream,
            json_=json_,
            show_prompt=show_prompt,
            load=load,
        )


def _check_text(
    text: str | None, inputs: tuple[Path, ...], images: tuple[Path, ...], stream: bool, json_: bool
) -> None:
    """Usage errors of the text to translate and how it is printed."""
    if stream and json_:
        raise click.UsageError("--stream and --json cannot be used together")
    if text is not None and (inputs or images):
        raise click.UsageError("give the text as an argument or with -i/--input, not both")
    if text is not None and _names_a_file(text):
        raise click.UsageError(
            f"{text!r} is a file: translate it with -i {text} (the argument is translated as text)"
        )


def _check_mode(
    text: str | None,
    inputs: tuple[Path, ...],
    images: tuple[Path, ...],
    output_path: str | None,
    format_: str | None,
    fields: str | None,
    stream: bool,
    json_: bool,
    show_prompt: bool,
    ray: bool,
) -> None:
    """Usage errors between the options of a mode (the job's own options are :func:`~tg_edge.jobs.check_job`'s)."""
    if ray:
        if text is not None or stream or json_ or show_prompt:
            raise click.UsageError(
                "--ray translates a dataset file (-i FILE -o FILE), without TEXT, --stream, "
                "--json or --show-prompt"
            )
        return
    if images and (stream or format_ or fields):
        raise click.UsageError("--image does not go with --stream, --format or --fields")
    if images and (json_ or show_prompt) and (output_path or inputs):
        raise click.UsageError("--image with --json or --show-prompt prints to stdout: leave out -o and -i")
    if len(inputs + images) > 1 and (stream or json_ or show_prompt) and not (images and not inputs):
        raise click.UsageError("--stream, --json and --show-prompt take one input file")


def _names_a_file(text: str) -> bool:
    """Whether a TEXT argument is the name of an existing file (the user most likely meant -i)."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > 4096:
        return False
    try:
        return Path(candidate).expanduser().is_file()
    except OSError:
        return False
