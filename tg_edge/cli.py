"""The ``tg-edge`` command line: a thin layer over the Python API."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .cli_params import MMPROJ, PARALLEL, engine_options, terms_options
from .errors import InputError, TgEdgeError, TranslationIncomplete
from .fileio import check_output, decode_utf8, read_text_file, write_output, write_stdout
from .formats import BINARY, FORMATS, format_for
from .languages import supported_languages
from .prompts import PROFILES

if TYPE_CHECKING:
    from .languages import Language
    from .translator import TranslationOptions, Translator

log = logging.getLogger("tg_edge")
F = TypeVar("F", bound=Callable[..., Any])  # a click command function


class _TgEdgeGroup(click.Group):
    """Turns tg-edge's own errors into one clean line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TgEdgeError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except OSError as exc:  # a file or stream failing mid-way that no check could foresee (a full disk)
            place = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"Error: {exc.strerror or exc}{place}", err=True)
            ctx.exit(1)


def _configure_logging(verbose: int) -> None:
    """Log on stderr: warnings by default, -v info, -vv debug (with llama.cpp's own log)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("tg_edge")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> None:
    # Before or after the subcommand's name, -v counts the same; the larger count wins.
    root = ctx.find_root()
    root.meta["tg_edge.verbose"] = max(root.meta.get("tg_edge.verbose", 0), value)
    _configure_logging(root.meta["tg_edge.verbose"])


def verbose_option(command: F) -> F:
    """``-v/--verbose`` on a command: the group's option, accepted after the subcommand's name too."""
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbosity,
        help="More log output on stderr (-vv for llama.cpp's own log).",
    )(command)


@click.group(cls=_TgEdgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="tg-edge")
@verbose_option
def main() -> None:
    """Offline machine translation with translation LLMs (TranslateGemma and others) through llama.cpp."""


@main.command()
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
@MMPROJ
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
@click.option(
    "model",
    "-m",
    "--model",
    envvar="TG_EDGE_MODEL",
    help="GGUF file or model name [env TG_EDGE_MODEL; default: the demo model].",
)
@click.option(
    "prompt_profile",
    "--prompt-profile",
    type=click.Choice(PROFILES),
    help="Force a prompt profile instead of detecting it from the GGUF.",
)
@click.option("--stream", is_flag=True, help="Print tokens as they are generated.")
@engine_options
@PARALLEL
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
    mmproj: Path | None,
    output_path: str | None,  # a string: a trailing / (a directory) survives
    format_: str | None,
    pdf_layout: str,
    fields: str | None,
    resume: bool,
    skip_bad: bool,
    batch: int | None,
    progress: bool | None,
    model: str | None,
    prompt_profile: str | None,
    stream: bool,
    threads: int | None,
    gpu_layers: int | str | None,
    n_ctx: int,
    parallel: int | None,
    glossary_files: tuple[Path, ...],
    keep_terms: tuple[str, ...],
    keep_files: tuple[Path, ...],
    strict: bool,
    json_: bool,
    show_prompt: bool,
    ray_address: str | None,
    replicas: int | None,
    gpus_per_replica: float,
) -> None:
    """Translate TEXT (or -i FILES/DIRS, or stdin) from -s SOURCE to -t TARGET.

    Lines, blank lines and indentation come back exactly as they were. Files keep their format
    (text, Markdown, HTML, SRT, WebVTT, JSONL, DOCX, PDF): only the text is translated, the markup,
    timestamps and untranslated fields stay byte for byte.
    """
    from .glossary import load_terms
    from .translator import AUTO, TranslationOptions, accepted_language, detect_source, is_auto

    # Every usage error and each language, resolved once here, before a model is loaded.
    src = AUTO if is_auto(source) else accepted_language(source)
    tgt = accepted_language(target)
    if stream and json_:
        raise click.UsageError("--stream and --json cannot be used together")
    if text is not None and (inputs or images):
        raise click.UsageError("give the text as an argument or with -i/--input, not both")
    if text is not None and _names_a_file(text):
        raise click.UsageError(
            f"{text!r} is a file: translate it with -i {text} (the argument is translated as text)"
        )
    if output_path is not None:  # every mode: never over an input, never into a place that cannot be written
        check_output(output_path, [*inputs, *images])
    terms = load_terms(
        glossary_files, keep_terms, keep_files, source=None if src == AUTO else src, target=tgt
    )
    options = TranslationOptions(strict=strict, glossary=terms)
    translator_args: dict[str, Any] = {
        "model": model,
        "threads": threads,
        "gpu_layers": gpu_layers,
        "n_ctx": n_ctx,
        "parallel": parallel,
        "prompt_profile": prompt_profile,
        "mmproj": mmproj,
    }
    if ray_address is not None or replicas is not None or gpus_per_replica:
        if ray_address is None:
            raise click.UsageError("--replicas and --gpus-per-replica go with --ray")
        if text is not None or stream or json_ or show_prompt:
            raise click.UsageError(
                "--ray translates a dataset file (-i FILE -o FILE), without TEXT, --stream, "
                "--json or --show-prompt"
            )
        _translate_dataset(
            inputs,
            output_path,
            src,
            tgt,
            format_=format_,
            fields=fields,
            resume=resume,
            skip_bad=skip_bad,
            batch=batch,
            progress=progress,
            options=options,
            translator_args=translator_args,
            ray=(ray_address, replicas, gpus_per_replica),
        )
        return
    if images and (stream or format_ or fields):
        raise click.UsageError("--image does not go with --stream, --format or --fields")
    if images and (json_ or show_prompt) and (output_path or inputs):
        raise click.UsageError("--image with --json or --show-prompt prints to stdout: leave out -o and -i")
    if images and output_path is None and not inputs:
        _translate_images(
            images,
            src,
            tgt,
            options=options,
            json_=json_,
            show_prompt=show_prompt,
            translator_args=translator_args,
        )
        return
    inputs = inputs + images
    if (inputs or format_) and not (stream or json_ or show_prompt):
        _translate_files(
            inputs,
            output_path,
            src,
            tgt,
            format_=format_,
            pdf_layout="pdf" if pdf_layout == "translated" else pdf_layout,
            fields=fields,
            resume=resume,
            skip_bad=skip_bad,
            batch=batch,
            progress=progress,
            options=options,
            translator_args=translator_args,
        )
        return
    if len(inputs) > 1:
        raise click.UsageError("--stream, --json and --show-prompt take one input file")
    content = _read_input(text, inputs[0] if inputs else None)
    if not content.strip(
        "\ufeff \t\r\n\f\v"
    ):  # nothing to translate: no model needed, whitespace comes back as is
        _emit(content, output_path)
        return
    # a command-line argument gets a terminal-friendly newline
    content_end = "\n" if text is not None and not content.endswith("\n") and output_path is None else ""
    _output_file(output_path)  # -o naming a directory is refused before a model loads
    if text is None and not inputs:
        _hint_markdown(content)
    if src == AUTO:
        detect_source([content])  # text whose language cannot be told is refused before a model loads

    with _loaded_translator(translator_args) as translator:
        if show_prompt:
            first = next(line.strip("\ufeff \t") for line in content.splitlines() if line.strip("\ufeff \t"))
            prompt = translator.render_prompt(first, source=src, target=tgt)
            ending = "" if prompt.endswith("\n") else "\n"  # the shell's own prompt goes on a line of its own
            _emit(prompt + ending, output_path)
            return
        try:
            if stream and output_path is None:
                events = translator.translate_stream(content, source=src, target=tgt, options=options)
                for piece in events:
                    write_stdout(piece)
                write_stdout(content_end)
                if events.result is None:  # set when the stream ends
                    raise TgEdgeError("the translation stream ended without a result")
                result = events.result
            else:
                result = translator.translate(content, source=src, target=tgt, options=options)
                _emit_translation(result, translator, json_, content_end, output_path)
        except TranslationIncomplete as exc:  # --strict: the translation still goes out, then exit 3
            if exc.translations and not stream:
                _emit_translation(exc.translations[0], translator, json_, content_end, output_path)
            raise
    if result.problems:
        click.echo(
            f"{len(result.problems)} of {len(result.segments)} segments need a look (see warnings above).",
            err=True,
        )


@contextmanager
def _loaded_translator(args: dict[str, Any]) -> Iterator[Translator]:
    """The model the command line names, loaded for this command and closed after it; or the translator an
    embedding program (or a test) handed over as the context object (``main(obj=translator)``), left open."""
    from .translator import Translator

    given = click.get_current_context().find_root().obj
    if isinstance(given, Translator):
        yield given
        return
    with Translator(**args) as translator:
        yield translator


def _emit_translation(result, translator, json_: bool, content_end: str, output_path: str | None) -> None:
    if json_:
        _emit(json.dumps(_result_json(result, translator), ensure_ascii=False, indent=2) + "\n", output_path)
    else:
        _emit(result.text + content_end, output_path)


def _hint_markdown(content: str) -> None:
    """Plain-text stdin that looks like Markdown gets a note: code lines would be translated as prose."""
    from .formats import looks_like_markdown

    if looks_like_markdown(content):
        click.echo(
            "Note: stdin looks like Markdown (a code block, or headings with markup) and is translated "
            "as plain text, line by line; add --format md to keep code blocks and markup as they are.",
            err=True,
        )


def _names_a_file(text: str) -> bool:
    """Whether a TEXT argument is the name of an existing file (the user most likely meant -i)."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > 4096:
        return False
    try:
        return Path(candidate).expanduser().is_file()
    except OSError:
        return False


def _translate_files(
    inputs: tuple[Path, ...],
    output_path: str | None,
    source: Language | str,
    target: Language | str,
    *,
    format_: str | None,
    pdf_layout: str = "pdf",
    fields: str | None,
    resume: bool,
    skip_bad: bool,
    batch: int | None,
    progress: bool | None,
    options: TranslationOptions,
    translator_args: dict[str, Any],  # Translator's keyword arguments
) -> None:
    """Files (or stdin with --format) in their formats, through tg_edge.jobs; a summary on stderr."""
    from .jobs import FileJob, JobOptions, plan_job

    if resume and output_path is None:
        raise click.UsageError("--resume needs -o/--output (the interrupted job's output)")
    if not inputs and format_ in BINARY:
        raise click.UsageError(f"--format {format_} reads a file: pass it with -i FILE")
    planned = plan_job(list(inputs), output_path) if inputs else None
    pairs = planned.pairs if planned is not None else None
    binary = [format_for(path, format_) for path, _ in pairs or [] if format_for(path, format_) in BINARY]
    if output_path is None and binary:
        text = ", or --format md for its text" if binary[0] == "pdf" else ""
        raise click.UsageError(
            f"a translated {binary[0].upper()} file cannot go to standard output: give -o FILE or -o DIR{text}"
        )
    if any(format_for(path, format_) == "pdf" and format_for(out) != "md" for path, out in pairs or []):
        from .formats.pdf import check_target

        check_target(target)  # a script the PDF fonts lack: refused before the model loads
    if not fields and (
        format_ == "jsonl" or any(format_for(path, format_) == "jsonl" for path, _ in pairs or [])
    ):
        raise click.UsageError(
            "a JSONL file needs --fields to say which string fields to translate, "
            "e.g. --fields instruction,output"
        )
    stdin_out = None if inputs else _output_file(output_path)
    stdin_text = None if inputs else _read_input(None, None)
    sizes = {"chunk_segments": batch, "chunk_records": batch} if batch else {}
    job_options = JobOptions(
        source=source,
        target=target,
        format=format_,
        fields=fields,
        resume=resume,
        skip_bad=skip_bad,
        progress=progress,
        translation=options,
        pdf_layout=pdf_layout,
        **sizes,
    )
    with _loaded_translator(translator_args) as translator:
        job = FileJob(translator, job_options)
        try:
            if planned is not None:
                job.run(planned.pairs, passed_over=planned.passed_over)
            else:
                rendered = job.translate_text(stdin_text or "", "<stdin>", stdin_out)  # no inputs: stdin
                if output_path is None:
                    write_stdout(rendered)
                job.check_strict()
        except KeyboardInterrupt:
            click.echo(job.report.kept_note(), err=True)
            sys.exit(130)
        finally:
            _print_summary(job.report)


def _translate_images(
    images: tuple[Path, ...],
    source: Language | str,
    target: Language | str,
    *,
    options: TranslationOptions,
    json_: bool,
    show_prompt: bool,
    translator_args: dict[str, Any],  # Translator's keyword arguments
) -> None:
    """Images onto stdout: each one's translated text (under a ``==> NAME <==`` line when there are several)."""
    from .images import read_image
    from .translator import ImageTranslation, refuse_auto_for_images

    refuse_auto_for_images(source)
    pictures = [read_image(path) for path in images]  # every bad image is refused before a model loads
    results: list[ImageTranslation] = []
    with _loaded_translator(translator_args) as translator:
        if show_prompt:
            _emit(translator.render_image_prompt(source=source, target=target) + "\n", None)
            return
        for picture in pictures:
            result = translator.translate_image(
                picture, source=source, target=target, options=replace(options, strict=False)
            )
            results.append(result)
            if not json_:
                header = f"==> {picture.name} <==\n" if len(pictures) > 1 else ""
                _emit(
                    f"{header}{result.text}\n" + ("\n" if header and picture is not pictures[-1] else ""),
                    None,
                )
        if json_:
            shown = [_image_json(result, translator) for result in results]
            _emit(
                json.dumps(shown[0] if len(shown) == 1 else shown, ensure_ascii=False, indent=2) + "\n", None
            )
    flagged = [r for r in results if r.problems]
    if flagged:
        click.echo(f"{len(flagged)} of {len(results)} images need a look (see warnings above).", err=True)
        if options.strict:
            raise TranslationIncomplete(
                f"{len(flagged)} of {len(results)} image translations are suspect (strict)"
            )


def _image_json(result, translator) -> dict[str, object]:
    return {
        **_result_json(result, translator),
        "image": result.image,
        "image_tokens": result.image_tokens,
        "image_seconds": round(result.image_seconds, 4),
    }


def _translate_dataset(
    inputs: tuple[Path, ...],
    output_path: str | None,
    source: Language | str,
    target: Language | str,
    *,
    format_: str | None,
    fields: str | None,
    resume: bool,
    skip_bad: bool,
    batch: int | None,
    progress: bool | None,
    options: TranslationOptions,
    translator_args: dict[str, Any],  # Translator's keyword arguments
    ray: tuple[str, int | None, float],
) -> None:
    """One JSONL or Parquet dataset on Ray (tg_edge.distributed), exactly once per record; a summary on stderr."""
    from .distributed import RayOptions, require_ray, translate_dataset
    from .jobs import JobOptions

    require_ray()  # before any other check: without the extra, --ray says how to install it
    if len(inputs) != 1 or output_path is None or inputs[0].is_dir() or output_path.endswith(("/", "\\")):
        raise click.UsageError("--ray translates one dataset file: give -i FILE and -o FILE")
    if format_ not in (None, "jsonl"):
        raise click.UsageError("--ray translates JSONL or Parquet datasets (--format jsonl, or by extension)")
    if not fields:
        raise click.UsageError(
            "a dataset needs --fields to say which string fields to translate, "
            "e.g. --fields instruction,output"
        )
    from .load_options import LoadOptions

    load = LoadOptions(**translator_args)
    address, replicas, gpus = ray
    cluster = RayOptions(None if address == "local" else address, replicas, gpus, load.threads)
    sizes: dict[str, Any] = {"chunk_records": batch} if batch else {}
    job_options = JobOptions(
        source=source,
        target=target,
        format=format_,
        fields=fields,
        resume=resume,
        skip_bad=skip_bad,
        progress=progress,
        translation=options,
        **sizes,
    )
    try:
        report = translate_dataset(inputs[0], output_path, job_options, load=load, cluster=cluster)
    except KeyboardInterrupt:
        click.echo(
            "Interrupted. Finished blocks are kept: run the same command with --resume to go on.", err=True
        )
        sys.exit(130)
    except TranslationIncomplete as exc:  # --strict: the dataset is written all the same
        _print_summary(exc.report)
        raise
    per_actor = ", ".join(f"{name} {count}" for name, count in sorted(report.replicas.items()))
    click.echo(
        f"{report.records} records in {report.blocks} blocks ({report.resumed} resumed) on "
        f"{report.replica_count} replicas in {report.seconds:.1f} s"
        + (f"; blocks per actor: {per_actor}" if per_actor else "")
        + ".",
        err=True,
    )
    _print_summary(report)


def _print_summary(report) -> None:
    """What a file job did, on stderr: counts, then each suspect segment and skipped input by place."""
    if (
        report.segments >= 200
        or report.flagged
        or report.skipped
        or report.passed_over
        or report.resumed
        or len(report.written) > 1
    ):
        click.echo(
            f"{len(report.written)} files written, {report.segments} segments "
            f"({report.translated} translated, {report.cached} from the cache, "
            f"{report.resumed} resumed) in {report.seconds:.1f} s.",
            err=True,
        )
    if report.flagged:
        groups = report.flagged_groups()
        distinct = f", {len(groups)} distinct" if len(groups) < len(report.flagged) else ""
        click.echo(
            f"{len(report.flagged)} segments need a look{distinct} (kept the best translation found):",
            err=True,
        )
        for group in groups[:50]:
            click.echo(f"  {_flag_line(group)}", err=True)
        if len(groups) > 50:
            click.echo(f"  … and {len(groups) - 50} more", err=True)
    for skipped in report.skipped:
        click.echo(f"Skipped: {skipped}", err=True)
    for reason, paths in report.passed_over_groups():
        click.echo(f"Passed over {reason}:", err=True)
        for path in paths[:50]:
            click.echo(f"  {path}", err=True)
        if len(paths) > 50:
            click.echo(f"  … and {len(paths) - 50} more", err=True)
    if report.complete:
        done = str(report.complete[0]) if len(report.complete) == 1 else f"{len(report.complete)} outputs"
        click.echo(
            f"Nothing to resume for {done}: complete already, left as it is "
            "(run without --resume to translate again).",
            err=True,
        )


def _flag_line(group) -> str:
    """One summary line for a suspect segment, or for a repeated one with its count and places."""
    preview = group.source if len(group.source) <= 60 else group.source[:59] + "…"
    place = {"pdf": "page"}.get(
        format_for(group.path), "paragraph" if format_for(group.path) in BINARY else "line"
    )
    attempts = f"after {group.attempts} attempt{'s' if group.attempts > 1 else ''}"
    if len(group.lines) == 1:
        return f"{group.path}, {place} {group.lines[0]}: {preview!r} {group.problem} ({attempts})"
    shown = ", ".join(str(line) for line in group.lines[:8]) + (", …" if len(group.lines) > 8 else "")
    return f"{group.path}: {preview!r} {group.problem} (×{len(group.lines)}: {place}s {shown}; {attempts})"


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.pass_context
def convert(ctx: click.Context) -> None:
    """Convert a Hugging Face checkpoint to GGUF and quantize it (needs the `convert` extra)."""
    try:
        from convert.cli import main as convert_main
    except ImportError as exc:
        raise TgEdgeError(
            f"conversion needs the convert extra ({exc.name} is missing): "
            "pip install torch==2.13.0 'tg-edge[convert]'"
        ) from None
    convert_main(args=ctx.args, prog_name="tg-edge convert")


@main.command()
@verbose_option
@click.argument("query", required=False)
@click.option("json_", "--json", is_flag=True, help="Print JSON instead of a table.")
def languages(query: str | None, json_: bool) -> None:
    """List TranslateGemma's language codes, or show what QUERY (a code or a name) resolves to.

    Models with the chat or fewshot prompt profile also accept any other BCP-47 / ISO 639 language
    with a known name (bar: Bavarian, gsw: Swiss German).
    """
    from .translator import accepted_language

    langs = [accepted_language(query)] if query else supported_languages()
    if json_:
        click.echo(
            json.dumps(
                [{"code": lang.code, "name": lang.name, "table": lang.table} for lang in langs],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    width = max(len(lang.code) for lang in langs)
    for lang in langs:
        click.echo(f"{lang.code:<{width}}  {lang.name}" + (f"  ({lang.table})" if query else ""))
    if not query:
        click.echo(
            "Models with the chat or fewshot prompt profile accept any other BCP-47 language too "
            "(`tg-edge languages bar` shows one).",
            err=True,
        )


@main.command()
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
@engine_options
@PARALLEL
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
    models: tuple[str, ...], quants: tuple[str, ...], quick: bool, out_dir: Path, **options: object
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
    from .bench.report import write_reports
    from .bench.runner import BenchSettings, run_bench

    given: dict[str, Any] = {key: value for key, value in options.items() if value is not None}
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


@main.command()
@verbose_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback by default; 0.0.0.0 exposes the service to the network).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on (0: any free port, printed at start).",
)
@click.option(
    "model",
    "-m",
    "--model",
    envvar="TG_EDGE_MODEL",
    help="GGUF file or model name [env TG_EDGE_MODEL; default: the demo model].",
)
@click.option(
    "api_keys",
    "--api-keys",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Require one of the API keys in this file (one a line) on every translation request.",
)
@click.option(
    "char_limit",
    "--char-limit",
    type=click.IntRange(min=-1),
    default=10_000,
    show_default=True,
    help="Most characters one request may translate (-1: no limit).",
)
@click.option(
    "batch_limit",
    "--batch-limit",
    type=click.IntRange(min=-1),
    default=128,
    show_default=True,
    help="Most texts in one request's q array (-1: no limit).",
)
@click.option(
    "max_queue",
    "--max-queue",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Requests translating or waiting at once; more get HTTP 429.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Requests handed to the model at once (their segments are decoded together).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds a request may wait and translate before it fails.",
)
@click.option(
    "max_body",
    "--max-body-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=16.0,
    show_default=True,
    help="Largest request body in MiB (files included); larger gets HTTP 413.",
)
@click.option(
    "segment_limit",
    "--segment-limit",
    type=click.IntRange(min=-1),
    default=2_000,
    show_default=True,
    help="Most segments one file request may hold (-1: no limit).",
)
@click.option(
    "cors_origins",
    "--cors-origin",
    multiple=True,
    help="Web origin whose pages may call the API from a browser, beyond this machine's own pages "
    "and apps/extensions (e.g. https://app.example.org, https://*.example.org); repeatable; "
    "'*' allows every web page.",
)
@click.option(
    "allowed_hosts",
    "--allow-host",
    multiple=True,
    help="Host name clients may address the server by, beyond localhost and --host (e.g. a LAN name); "
    "repeatable; '*' allows every name (no DNS-rebinding defence).",
)
@click.option(
    "data_dir",
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where translated files wait for download, kept across restarts [default: TG_EDGE_HOME/server].",
)
@click.option("open_", "--open", is_flag=True, help="Open the translator page in the default web browser.")
@engine_options
@MMPROJ
def serve(
    host: str,
    port: int,
    model: str | None,
    api_keys: Path | None,
    char_limit: int,
    batch_limit: int,
    max_queue: int,
    workers: int,
    timeout: float,
    max_body: float,
    segment_limit: int,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    data_dir: Path | None,
    open_: bool,
    threads: int | None,
    gpu_layers: int | str | None,
    n_ctx: int,
    mmproj: Path | None,
) -> None:
    """Serve a translator page and LibreTranslate- and DeepL-compatible HTTP APIs (needs the server extra).

    GET / is a translator page for the browser (text as you type, files with progress, the sentences the
    guards flagged marked), served from the package: it works offline.

    POST /translate, /detect, /translate_file and /translate_image (the text in an image, with a
    TranslateGemma model and its vision projector), GET /languages and /health, with LibreTranslate's
    field names, status codes and errors, so its clients and plugins work unchanged; DeepL's API v2
    (/v2/translate, /v2/languages, /v2/usage) for apps that take a DeepL server URL. The API
    description is at /docs. Web pages may call it only from this machine (localhost) or from apps and
    browser extensions unless --cors-origin allows more. Stop with Ctrl-C or SIGTERM: queued requests
    get 503 and running ones stop at once.
    """
    from importlib.util import find_spec

    missing = [name for name in ("fastapi", "uvicorn", "multipart") if find_spec(name) is None]
    if missing:
        raise TgEdgeError(f"tg-edge serve needs {', '.join(missing)}: pip install 'tg-edge[server]'")
    from .models.home import home_dir
    from .server import ServerSettings, listen, load_api_keys
    from .server import serve as run_server
    from .translator import Translator

    settings = ServerSettings(
        char_limit=char_limit,
        batch_limit=batch_limit,
        segment_limit=segment_limit,
        max_queue=max_queue,
        workers=workers,
        timeout=timeout,
        max_body_bytes=int(max_body * (1 << 20)),
        api_key_digests=load_api_keys(api_keys) if api_keys is not None else frozenset(),
        cors_origins=tuple(origin for origin in cors_origins if origin),
        host=host,
        allowed_hosts=tuple(name for name in allowed_hosts if name),
        data_dir=data_dir if data_dir is not None else home_dir() / "server",
    )
    # The port before the model: a taken port fails at once, and clients wait in the backlog while it loads.
    with (
        listen(host, port) as sock,
        Translator(model, threads=threads, gpu_layers=gpu_layers, n_ctx=n_ctx, mmproj=mmproj) as translator,
    ):

        def ready(url: str) -> None:
            keys = f", {len(settings.api_key_digests)} API keys" if settings.api_key_digests else ""
            click.echo(
                f"tg-edge serving {translator.model_path.name} on {url} (page: {url}/, docs: {url}/docs{keys}); "
                "Ctrl-C stops",
                err=True,
            )
            if open_:
                import webbrowser

                webbrowser.open(
                    url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:") + "/"
                )

        try:
            run_server(translator, settings, sock=sock, ready=ready)
        except KeyboardInterrupt:  # uvicorn shut down gracefully, then passed Ctrl-C on
            click.echo("tg-edge serve stopped", err=True)


@main.command()
@verbose_option
@click.option("json_", "--json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "n_ctx",
    "--ctx",
    type=click.IntRange(min=256),
    default=4096,
    show_default=True,
    help="Context size the models are fitted with.",
)
def doctor(json_: bool, n_ctx: int) -> None:
    """Check this machine: the llama.cpp build (backends, CPU features, GPU offload), the CPU threads tg-edge
    uses, RAM and GPU memory, the model store, and which catalog model fits at which quant, and how (every
    layer on the GPU, partly, CPU only), from the file sizes, the KV cache and llama.cpp's compute buffers."""
    from .doctor import diagnose, render

    report = diagnose(n_ctx=n_ctx)
    click.echo(json.dumps(report, indent=2) if json_ else render(report), nl=json_)


@main.group()
def models() -> None:
    """List, download and remove models."""


@models.command("list")
@verbose_option
@click.option("json_", "--json", is_flag=True, help="Print JSON instead of tables.")
def models_list(json_: bool) -> None:
    """Installed model files (name, quant, prompt profile, size) and the catalog of known models, with the
    quants of each that fit this machine and how fast its default quant would decode here (`tg-edge doctor`
    tells how)."""
    from .machine import machine
    from .models import CATALOG, installed_models
    from .models.fits import catalog_fits, default_context, fit_marks, fitting_quants, speed_here, speeds
    from .speed import as_json

    installed = installed_models()
    here = machine()
    fits = catalog_fits(
        here.budget, default_context(gpu=bool(here.gpus)), installed=installed, facts=speed_here(here)
    )
    marks, fitting, speed = fit_marks(fits), fitting_quants(fits), speeds(fits)
    if json_:
        click.echo(
            json.dumps(
                {
                    "installed": [
                        {
                            "name": m.name,
                            "path": str(m.path),
                            "size": m.size,
                            "quant": m.quant,
                            "profile": m.profile,
                            "repo": m.repo,
                            "revision": m.revision,
                        }
                        for m in installed
                    ],
                    "catalog": [
                        {
                            "name": e.name,
                            "repo": e.repo,
                            "profile": e.profile,
                            "default_quant": e.default_quant,
                            "quants": list(e.quants),
                            "size_gb": e.size_gb,
                            "description": e.description,
                            "fits": fitting.get(e.name, []),
                            "speed": {quant: as_json(s) for quant, s in speed.get(e.name, {}).items()},
                        }
                        for e in CATALOG
                    ],
                },
                indent=2,
            )
        )
        return
    click.echo("Installed (use with --model NAME):")
    if installed:
        _table(
            [("NAME", "QUANT", "PROFILE", "SIZE", "PATH")]
            + [(m.name, m.quant, m.profile, _size(m.size), str(m.path)) for m in installed]
        )
    else:
        click.echo("  (none: `tg-edge models pull NAME` downloads one)")
    click.echo(
        "\nCatalog (tg-edge models pull NAME[:QUANT]; FITS HERE: the quants this machine runs; SPEED HERE: the "
        "default quant's estimated decode speed):"
    )
    _table(
        [("NAME", "PROFILE", "SIZE", "QUANTS", "FITS HERE", "SPEED HERE", "REPOSITORY", "DESCRIPTION")]
        + [
            (
                e.name,
                e.profile,
                f"{e.size_gb:g} GB",
                ",".join(e.quants),
                marks.get(e.name, "?"),
                speed[e.name][e.default_quant].describe()
                if e.default_quant in speed.get(e.name, {})
                else "-",
                e.repo,
                e.description,
            )
            for e in CATALOG
        ]
    )


@models.command("pull")
@verbose_option
@click.argument("spec", metavar="NAME_OR_REPO[:QUANT]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--projector/--no-projector",
    default=True,
    show_default=True,
    help="Also fetch the repository's vision projector (mmproj GGUF, for --image), where it has one.",
)
def models_pull(spec: str, quiet: bool, projector: bool) -> None:
    """Download a model into the Hugging Face cache and verify its checksum.

    NAME is a catalog name (`tg-edge models list`), a family (`translategemma`: the largest of its
    models that fits this machine) or a hub repository OWNER/NAME; QUANT picks the file (Q4_K_M by
    default). The vision projector comes along into the same folder. Prints the file's path on stdout.
    """
    from .models import pull_model

    pulled = pull_model(
        spec, progress=not quiet, report=lambda message: click.echo(message, err=True), projector=projector
    )
    click.echo(
        f"Pulled {pulled.name} ({_size(pulled.size)}, {pulled.quant}, {pulled.profile} profile, "
        f"sha256 verified); translate with --model {pulled.name}",
        err=True,
    )
    click.echo(str(pulled.path))


@models.command("rm")
@verbose_option
@click.argument("spec", metavar="NAME[:QUANT]")
def models_rm(spec: str) -> None:
    """Delete an installed model (every quant of it, unless one is named)."""
    from .errors import ModelError
    from .models import remove_models

    removed = remove_models(spec)
    if not removed:
        raise ModelError(f"no installed model matches {spec!r} (`tg-edge models list` shows them)")
    for model in removed:
        click.echo(f"Removed {model.name} ({_size(model.size)}): {model.path}", err=True)


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _size(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _read_input(text: str | None, input_path: Path | None) -> str:
    if text is not None and input_path is not None:
        raise click.UsageError("give the text as an argument or with -i/--input, not both")
    if text is not None:
        return text
    if input_path is not None:
        return read_text_file(input_path)
    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError("no text: pass TEXT, -i FILE, or pipe text on stdin")
    return decode_utf8(sys.stdin.buffer.read(), "<stdin>")


def _emit(text: str, output_path: str | None) -> None:
    path = _output_file(output_path)
    if path is None:
        write_stdout(text)
        return
    write_output(path, text)


def _output_file(output_path: str | None) -> Path | None:
    """-o as the one file a single text is written to; a directory (existing, or written with a trailing /)
    is refused rather than taken as a file name."""
    from .jobs import names_directory

    if output_path is None:
        return None
    if names_directory(output_path):
        raise InputError(f"-o {output_path} is a directory, and one text is written to a file: give -o FILE")
    return Path(output_path)


def _result_json(result, translator) -> dict[str, object]:
    return {
        "translation": result.text,
        "source": result.source.code,
        "target": result.target.code,
        "model": str(translator.model_path),
        "profile": result.profile,
        "seconds": round(result.seconds, 3),
        "threads": translator.threads,
        **(
            {
                "detected": {
                    "language": result.detected.language.code,
                    "confidence": round(result.detected.confidence, 3),
                }
            }
            if result.detected
            else {}
        ),
        "segments": [
            {
                "source": s.source,
                "translation": s.text,
                "stop": s.stop,
                "problem": s.problem,
                "prompt_tokens": s.prompt_tokens,
                "new_tokens": s.new_tokens,
                "reused_tokens": s.reused_tokens,
            }
            for s in result.segments
        ],
    }
