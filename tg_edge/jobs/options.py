"""How a file job runs, and the one check of its options that every entry point makes before a model loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..documents import CHUNK_CHARS, CHUNK_SEGMENTS
from ..errors import JobOptionsError
from ..formats import BINARY, format_for, jsonl
from ..languages import Language
from ..translator import TranslationOptions


@dataclass(frozen=True)
class JobOptions:
    """How a batch of files is translated."""

    source: Language | str
    """Source language, or ``auto`` to detect it for each file (from its first segments)."""
    target: Language | str
    format: str | None = None
    """Format name for every input (``txt``, ``md``, ...); ``None`` chooses by file extension."""
    fields: str | None = None
    """JSONL: comma-separated dotted paths of the string fields to translate."""
    resume: bool = False
    skip_bad: bool = False
    progress: bool | None = None
    """Show progress bars on stderr: ``None`` when stderr is a terminal."""
    translation: TranslationOptions | None = None
    """Decoding options (``strict`` among them); ``None``: the translator's own."""
    chunk_segments: int = CHUNK_SEGMENTS
    """Segments handed to the model at once (and journaled together)."""
    chunk_records: int = 128
    """JSONL records translated, written and journaled together."""
    chunk_chars: int = CHUNK_CHARS
    cache_size: int = 200_000
    pdf_layout: str = "pdf"
    """PDF inputs written as PDF: ``pdf`` (the translated pages) or ``bilingual`` (each page, then its
    translation); an output named ``.md`` (or ``format="md"``) gets the translated text instead."""


def check_job(
    options: JobOptions, pairs: Sequence[tuple[Path | None, Path | None]], *, dataset: bool = False
) -> None:
    """Refuse, with a :class:`~tg_edge.errors.JobOptionsError`, options that cannot work for these (input,
    output) pairs: the one check the CLI makes before it loads a model and file and dataset jobs make before
    they start. An input of ``None`` is standard input, an output of ``None`` standard output. ``dataset``: a
    Ray dataset job (its records need ``fields``, whatever the input's extension)."""
    if options.resume and any(out is None for _, out in pairs):
        raise JobOptionsError("--resume needs -o/--output (the interrupted job's output)")
    for path, _ in pairs:
        if path is None and format_for(None, options.format) in BINARY:
            raise JobOptionsError(f"--format {options.format} reads a file: pass it with -i FILE")
    binary = [format_for(path, options.format) for path, out in pairs if out is None]
    binary = [kind for kind in binary if kind in BINARY]
    if binary:
        text = ", or --format md for its text" if binary[0] == "pdf" else ""
        raise JobOptionsError(
            f"a translated {binary[0].upper()} file cannot go to standard output: give -o FILE or -o DIR{text}"
        )
    drawn = [path for path, out in pairs if out and not dataset and format_for(out) != "md"]
    if any(format_for(path, options.format) == "pdf" for path in drawn):
        from ..formats.pdf import check_target

        check_target(options.target)  # a script the PDF fonts lack: refused before the model loads
    if dataset or any(format_for(path, options.format) == "jsonl" for path, _ in pairs):
        jsonl.require_fields(options.fields, "a dataset" if dataset else "a JSONL file")
