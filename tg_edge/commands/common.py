"""What the commands share: the translator they load, where text comes from and goes, a job's summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import InputError, JobOptionsError
from ..fileio import decode_utf8, read_text_file, write_output, write_stdout

if TYPE_CHECKING:
    from ..jobs import JobReport
    from ..load_options import LoadOptions
    from ..translator import Translation, Translator


@contextmanager
def loaded_translator(load: LoadOptions) -> Iterator[Translator]:
    """The model the command line names, loaded for this command and closed after it; or the translator an
    embedding program (or a test) handed over as the context object (``main(obj=translator)``), left open."""
    from ..translator import Translator

    given = click.get_current_context().find_root().obj
    if isinstance(given, Translator):
        yield given
        return
    with load.load() as translator:
        yield translator


@contextmanager
def usage_errors() -> Iterator[None]:
    """The library's refusal of job options, shown as the command line's usage error (exit status 2)."""
    try:
        yield
    except JobOptionsError as exc:
        raise click.UsageError(str(exc)) from None


def read_input(text: str | None, input_path: Path | None) -> str:
    """The text to translate: the argument, the one input file, or standard input."""
    if text is not None and input_path is not None:
        raise click.UsageError("give the text as an argument or with -i/--input, not both")
    if text is not None:
        return text
    if input_path is not None:
        return read_text_file(input_path)
    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError("no text: pass TEXT, -i FILE, or pipe text on stdin")
    return decode_utf8(sys.stdin.buffer.read(), "<stdin>")


def emit(text: str, output_path: str | None) -> None:
    """``text`` into the one file -o names, or onto standard output."""
    path = output_file(output_path)
    if path is None:
        write_stdout(text)
        return
    write_output(path, text)


def output_file(output_path: str | None) -> Path | None:
    """-o as the one file a single text is written to; a directory (existing, or written with a trailing /)
    is refused rather than taken as a file name."""
    from ..jobs import names_directory

    if output_path is None:
        return None
    if names_directory(output_path):
        raise InputError(f"-o {output_path} is a directory, and one text is written to a file: give -o FILE")
    return Path(output_path)


def print_summary(report: JobReport) -> None:
    """What a file job did, on stderr: counts, then each suspect segment and skipped input by place."""
    for line in report.summary():
        click.echo(line, err=True)


def result_json(result: Translation, translator: Translator) -> dict[str, object]:
    """A translation and its details, as ``--json`` prints them."""
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
                "problem": s.problem_message,
                "prompt_tokens": s.prompt_tokens,
                "new_tokens": s.new_tokens,
                "reused_tokens": s.reused_tokens,
            }
            for s in result.segments
        ],
    }


def dump_json(value: object) -> str:
    """``value`` as the commands print JSON: indented, non-ASCII as it is, a newline at the end."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"
