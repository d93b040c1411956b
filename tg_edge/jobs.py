"""Translating files: many at once, in their formats, with a progress bar, a cache and resume.

A document (text, Markdown, HTML, subtitles) is read whole into segments and a skeleton; its
segments go to :meth:`Translator.translate_many` in large chunks, each finished chunk is
appended to a journal beside the output, and the output is written atomically at the end.
A JSON Lines file is streamed: chunks of records are translated, appended to a partial output
and recorded in the journal, and the partial file becomes the output when the last record is
in. ``resume=True`` picks up from the journal: finished segments or records are not redone,
none is written twice. The input is never modified.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from . import formats
from .documents import CHUNK_CHARS, CHUNK_SEGMENTS, DocumentTranslation, Flag, OutcomeCache, SegmentOutcome
from .errors import ImagesUnsupported, InputError, TranslationIncomplete
from .fileio import (
    check_not_binary,
    check_output,
    decode_utf8,
    is_stream,
    read_binary_file,
    read_text_file,
    write_output,
    write_stdout,
)
from .filetypes import HEAD_BYTES, directory_files, refuse_unreadable, why_passed_over
from .formats import jsonl
from .images import IMAGE_SUFFIXES, is_image_file
from .journal import AppendedOutput, Appender, journal_path, partial_path, read_journal
from .languages import Language
from .lognaming import naming_in_warnings
from .textstream import TextBlock, text_blocks
from .translator import TranslationOptions, Translator

log = logging.getLogger("tg_edge")


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


@dataclass(frozen=True)
class Flagged:
    """A segment whose kept translation a guard still finds suspect."""

    path: str
    line: int
    source: str
    problem: str
    attempts: int


@dataclass(frozen=True)
class FlaggedGroup:
    """The flags of one file that name the same text and problem (a repeated segment), with all their lines."""

    path: str
    source: str
    problem: str
    lines: tuple[int, ...]
    attempts: int


@dataclass(frozen=True)
class PassedOver:
    """A file a job left out without translating it, and why (a type tg-edge does not read, an image the model
    cannot read)."""

    path: str
    reason: str


@dataclass
class Unfinished:
    """The file a job is working on, and how much of it its journal holds (what ``--resume`` would keep)."""

    path: str
    kept: int
    total: int
    unit: str


@dataclass
class JobReport:
    """What a job did: files written, segments translated, what was flagged, skipped or passed over."""

    written: list[Path] = field(default_factory=list)
    segments: int = 0
    translated: int = 0
    cached: int = 0
    resumed: int = 0
    flagged: list[Flagged] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    passed_over: list[PassedOver] = field(default_factory=list)
    complete: list[Path] = field(default_factory=list)
    """Outputs a resumed job found finished already, left as they are."""
    unfinished: Unfinished | None = None
    seconds: float = 0.0

    def passed_over_groups(self) -> list[tuple[str, list[str]]]:
        """(reason, paths) of :attr:`passed_over`, one per reason, in order of first appearance."""
        groups: dict[str, list[str]] = {}
        for item in self.passed_over:
            groups.setdefault(item.reason, []).append(item.path)
        return list(groups.items())

    def kept_note(self) -> str:
        """What an interrupted job kept, in one line."""
        kept = []
        if self.written:
            kept.append(f"{len(self.written)} file{'s' if len(self.written) > 1 else ''} written")
        if self.unfinished is not None and self.unfinished.kept:
            u = self.unfinished
            kept.append(f"{u.kept} of {u.total} {u.unit} of {u.path} kept")
        if not kept:
            return "Interrupted: nothing finished yet, nothing kept."
        return f"Interrupted: {', '.join(kept)}; run the same command with --resume to go on."

    def flagged_groups(self) -> list[FlaggedGroup]:
        """:attr:`flagged` with identical flags of a file together, in order of first appearance."""
        groups: dict[tuple[str, str, str], list[Flagged]] = {}
        for flag in self.flagged:
            groups.setdefault((flag.path, flag.source, flag.problem), []).append(flag)
        return [
            FlaggedGroup(path, source, problem, tuple(f.line for f in flags), max(f.attempts for f in flags))
            for (path, source, problem), flags in groups.items()
        ]


@dataclass(frozen=True)
class JobPlan:
    """What a job will do: (input, output) pairs, and the files of its directories it leaves out."""

    pairs: list[tuple[Path, Path | None]]
    passed_over: list[PassedOver]


def plan(inputs: Sequence[Path], output: Path | str | None) -> list[tuple[Path, Path | None]]:
    """The (input, output) pairs of :func:`plan_job`."""
    return plan_job(inputs, output).pairs


def plan_job(inputs: Sequence[Path], output: Path | str | None) -> JobPlan:
    """Pairs of (input file, output file) for the given files and directories.

    A directory's files with a known extension are taken recursively and keep their relative paths
    under ``output`` (images too: their text is written to ``NAME.EXT.txt``); its other files (not
    hidden) are passed over, each with why. A single input file with an ``output`` that is not a
    directory is written to ``output`` itself; no ``output`` means stdout (one input file only). An
    ``output`` given as a string ending in ``/`` is a directory, existing or not; several inputs (or
    a directory) into an ``output`` that is a file, or that looks like one (a known file extension,
    not an existing directory), is an error rather than a directory of that name.
    """
    if not inputs:
        raise InputError("no input files")
    files: list[tuple[Path, Path]] = []  # (file, path relative to the output directory)
    passed_over: list[PassedOver] = []
    for item in inputs:
        if item.is_dir():
            found, others = directory_files(item)
            if not found:
                known = (*formats.known_suffixes(), *IMAGE_SUFFIXES)
                other = f"; {others[0].name} is one of the {why_passed_over(others[0])}" if others else ""
                raise InputError(f"{item} holds no files of a known format ({', '.join(known)}){other}")
            files.extend((p, _output_name(p.relative_to(item))) for p in found)
            passed_over.extend(PassedOver(str(p), why_passed_over(p)) for p in others)
        elif item.exists():
            files.append((item, _output_name(Path(item.name))))
        else:
            raise InputError(f"cannot read {item}: no such file or directory")
    single = len(inputs) == 1 and not inputs[0].is_dir()
    if output is None:
        if not single:
            raise InputError("several inputs need -o/--output DIRECTORY")
        return JobPlan([(files[0][0], None)], passed_over)
    directory = names_directory(output)
    target = Path(output)
    pairs: list[tuple[Path, Path | None]]
    if single and not directory:
        pairs = [(files[0][0], target)]
    else:
        reason = (
            "-o ending in / names a directory"
            if single
            else "several inputs are written to a directory"
            if len(inputs) > 1
            else "a directory of inputs is written to a directory"
        )
        _check_output_directory(target, directory, reason)
        pairs = [(path, target / relative) for path, relative in files]
    for path, out in pairs:
        if out is not None:
            check_output(out, [path])
    return JobPlan(pairs, passed_over)


def _output_name(relative: Path) -> Path:
    """Where an input's translation goes inside an output directory: the same name; an image's text as .txt."""
    return relative.with_name(relative.name + ".txt") if is_image_file(relative) else relative


def names_directory(output: Path | str) -> bool:
    """Whether ``output`` means a directory: an existing one, or a name written with a trailing ``/``."""
    return str(output).endswith(("/", os.sep)) or Path(output).is_dir()


def _check_output_directory(output: Path, said: bool, reason: str) -> None:
    """Refuse to make a directory out of a path that is a file or reads as a file name."""
    if output.exists() and not output.is_dir():
        raise InputError(f"{output} is a file, and {reason}")
    if not said and output.suffix.lower() in formats.known_suffixes():
        raise InputError(
            f"{output} looks like a file name, and {reason}: write -o {output}/ "
            "to make a directory of that name"
        )


class FileJob:
    """Translates files with one loaded :class:`~tg_edge.Translator`; identical segments are translated once.

    With ``strict`` decoding options every file is still written; :class:`TranslationIncomplete` comes
    at the end of :meth:`run` when a segment stayed suspect.
    """

    def __init__(self, translator: Translator, options: JobOptions, *, stderr: TextIO | None = None) -> None:
        self.translator = translator
        self.options = options
        self.report = JobReport()
        self._stderr = stderr or sys.stderr
        self._cache = OutcomeCache(options.cache_size)
        self._decoding = replace(options.translation or translator.options, strict=False)

    def run(
        self,
        pairs: Sequence[tuple[Path, Path | None]],
        *,
        stdout: TextIO | None = None,
        passed_over: Sequence[PassedOver] = (),
    ) -> JobReport:
        """Translate every (input, output) pair; with ``skip_bad`` a bad input is reported and passed over,
        and :class:`InputError` comes at the end when every input was. Among other inputs, an image the model
        cannot read is passed over with a note (with ``skip_bad`` or without). ``passed_over``: the files the
        plan left out (:attr:`JobPlan.passed_over`), for the report."""
        started = time.perf_counter()
        self.report.passed_over.extend(passed_over)
        finished = 0
        unreadable_images: ImagesUnsupported | None = None
        for path, out in pairs:
            if out is not None and self._finished_before(out):
                self.report.complete.append(out)
                finished += 1
                continue
            try:
                if unreadable_images is not None and is_image_file(path) and self.options.format is None:
                    raise unreadable_images  # known already: not worth a second try
                with naming_in_warnings(path, log):
                    self.translate_file(path, out, stdout=stdout)
                finished += 1
            except ImagesUnsupported as exc:
                if len(pairs) == 1:
                    raise
                why = "the model cannot read images" if unreadable_images is not None else str(exc)
                log.warning("passed over %s: %s", path, why)  # the whole reason once, then a short note
                unreadable_images = exc
                self.report.passed_over.append(PassedOver(str(path), f"images ({exc})"))
            except InputError as exc:
                if not self.options.skip_bad:
                    raise
                self.report.skipped.append(str(exc))
                log.warning("skipped: %s", exc)
        self.report.seconds = time.perf_counter() - started
        if pairs and not finished:  # --skip-bad skipped them all: that is no success
            if unreadable_images is not None and not self.report.skipped:
                raise unreadable_images
            inputs = "the input was" if len(pairs) == 1 else f"all {len(pairs)} inputs were"
            raise InputError(f"nothing was written: {inputs} skipped (see above)")
        self.check_strict()
        return self.report

    def _finished_before(self, out: Path) -> bool:
        """With ``resume``: whether ``out`` is a job's finished output. A job writes its output whole, at its end,
        and removes the journal (and partial file) then: a regular file with neither beside it is complete."""
        return (
            self.options.resume
            and out.is_file()
            and not journal_path(out).exists()
            and not partial_path(out).exists()
        )

    def check_strict(self) -> None:
        """With strict decoding options, :class:`TranslationIncomplete` if any segment was flagged."""
        if (self.options.translation or self.translator.options).strict and self.report.flagged:
            raise TranslationIncomplete(
                f"{len(self.report.flagged)} segments are still suspect after retrying (strict)"
            )

    def translate_file(self, path: Path, out: Path | None, *, stdout: TextIO | None = None) -> None:
        """Translate one file into ``out`` (atomically), or onto ``stdout`` when ``out`` is None."""
        if is_image_file(path) and self.options.format is None:
            self._image(path, out, stdout=stdout)
            return
        name = formats.format_for(path, self.options.format)
        if formats.format_for(path) == "pdf" and name in ("pdf", "md"):
            self._pdf(path, out, as_text=name == "md", stdout=stdout)
            return
        if name == "txt":
            self._text(path, out, stdout)
            return
        if name == "jsonl" and out is not None:
            self._jsonl(path, out)
            return
        if name in formats.BINARY:
            if out is None:
                raise InputError(
                    f"{path}: a translated {name.upper()} file cannot go to standard output; give -o"
                )
            self._render(read_binary_file(path), path, name, out)
            return
        rendered = _as_text(self._render(read_text_file(path), path, name, out))
        if out is None:
            write_stdout(rendered, stdout)

    def translate_text(self, text: str, name: str, out: Path | None) -> str:
        """Translate ``text`` (e.g. stdin) in the job's format (plain text by default); written to ``out`` if given."""
        if self.options.format in formats.BINARY:
            raise InputError(f"{self.options.format.upper()} is read from a file: pass it with -i")
        return _as_text(self._render(text, Path(name), self.options.format or "txt", out))

    def _pdf(self, path: Path, out: Path | None, *, as_text: bool, stdout: TextIO | None) -> None:
        """A PDF file into a translated PDF, or into its translated text (Markdown) with ``as_text``, an
        output named ``.md``, or onto ``stdout``."""
        from .formats.pdf import check_target
        from .formats.pdf_scans import scan_reader

        as_text = as_text or (out is not None and formats.format_for(out) == "md")
        if out is None and not as_text:
            raise InputError(
                f"{path}: a translated PDF file cannot go to standard output; give -o, or --format md"
            )
        if not as_text:
            check_target(self.options.target)
        layout = "md" if as_text else self.options.pdf_layout
        options = {  # scanned pages go through the image path, with a model that reads images
            "layout": layout,
            "scans": lambda: scan_reader(
                self.translator,
                source=self.options.source,
                target=self.options.target,
                options=self.options.translation,
            ),
        }
        rendered = self._render(read_binary_file(path), path, "pdf", out, options)
        if out is None:
            write_stdout(_as_text(rendered), stdout)

    def _render(
        self,
        text: str | bytes,
        path: Path,
        name: str,
        out: Path | None,
        options: dict[str, Any] | None = None,
    ) -> str | bytes:
        options = options or ({"fields": self.options.fields} if name == "jsonl" else {})
        document = formats.read(text, str(path), name, **options)
        rendered = self._document(document, path, out, name)
        for note in getattr(document, "notes", ()):  # what a format left undone (a PDF's scanned pages)
            log.warning("%s", note)
        if out is not None:
            write_output(out, rendered)
            if not is_stream(out):
                journal_path(out).unlink(missing_ok=True)
            self._written(out)
        return rendered

    def _image(self, path: Path, out: Path | None, *, stdout: TextIO | None = None) -> None:
        """The text in an image, translated, as a text file (or onto ``stdout``)."""
        with self._bar(1, path.name, "image") as bar:
            result = self.translator.translate_image(
                path, source=self.options.source, target=self.options.target, options=self._decoding
            )
            bar.update(1)
        self.report.segments += 1
        self._count(1, 1)
        for segment in result.problems:
            self._flag(
                str(path),
                1,
                Flag(source="", problem=segment.problem_message or "", attempts=segment.attempts),
            )
        text = result.text + "\n"
        if out is None:
            write_stdout(text, stdout)
        else:
            write_output(out, text)
            self.report.written.append(out)

    # -- documents --------------------------------------------------------------------------

    def _document(self, document: formats.Document, path: Path, out: Path | None, name: str) -> str | bytes:
        segments = document.segments
        self.report.segments += len(segments)
        fingerprint = self._fingerprint(name, hashlib.sha256(document.source.encode()).hexdigest())
        journal = journal_path(out) if out is not None and not is_stream(out) else None
        done = self._load_document_journal(journal, fingerprint, len(segments)) if journal is not None else {}
        self.report.resumed += len(done)
        if journal is not None:
            self.report.unfinished = unfinished = Unfinished(str(path), len(done), len(segments), "segments")
        with (
            self._bar(len(segments), path.name, "seg", initial=len(done)) as bar,
            Appender(journal, fingerprint, fresh=not done) as log_file,
        ):
            moved = [0]  # the bar moves per segment; a chunk's cached and repeated segments when it ends

            def segment_done(count: int) -> None:
                moved[0] += count
                bar.update(count)

            def chunk_done(indices: list[int], outcomes: list[SegmentOutcome], new: int) -> None:
                self._count(len(indices), new)
                log_file.write(
                    [
                        {
                            "i": i,
                            "text": o.text,
                            "problems": [[f.problem, f.attempts, f.source] for f in o.flags],
                        }
                        for i, o in zip(indices, outcomes, strict=True)
                    ]
                )
                if journal is not None:
                    unfinished.kept += len(indices)
                bar.update(len(indices) - moved[0])
                moved[0] = 0
                log.info("%s: %d of %d segments translated", path.name, bar.n, len(segments))

            result = self._translate([document], done=done, on_chunk=chunk_done, on_segment=segment_done)[0]
        for i, flag in result.flags:
            self._flag(str(path), segments[i].line, flag)
        return result.rendered

    def _load_document_journal(
        self, journal: Path, fingerprint: str, count: int
    ) -> dict[int, SegmentOutcome]:
        if not self.options.resume or not journal.exists():
            return {}
        done: dict[int, SegmentOutcome] = {}
        for entry in read_journal(journal, fingerprint):
            if 0 <= entry.get("i", -1) < count:
                flags = tuple(
                    Flag(unit, problem, attempts) for problem, attempts, unit in entry.get("problems", ())
                )
                done[entry["i"]] = SegmentOutcome(entry["text"], flags)
        return done

    # -- JSON Lines ---------------------------------------------------------------------------

    def _jsonl(self, path: Path, out: Path) -> None:
        paths = jsonl.parse_fields(self.options.fields)
        if not paths:
            raise InputError(
                f"{path}: a JSONL file needs --fields to say which string fields to translate, "
                "e.g. --fields instruction,output"
            )
        output = AppendedOutput(
            out, self._fingerprint("jsonl", str(path.resolve())), resume=self.options.resume
        )
        lines_done = int(output.position.get("lines", 0))  # type: ignore[call-overload]
        try:
            with open(path, "rb") as handle:
                refuse_unreadable(path, handle.read(HEAD_BYTES))  # a Parquet file: say --ray, not "binary"
            total = _count_lines(path)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        source = self.options.source  # ``auto``: detected on the first chunk, kept for the rest of the file
        with output, self._bar(total, path.name, "rec", initial=lines_done) as bar:
            self.report.resumed += lines_done
            unfinished = self._unfinished(output, path, lines_done, total, "records")
            for first, raws in _chunks(
                path, lines_done, self.options.chunk_records, self.options.chunk_chars
            ):
                batch = translate_records(
                    self.translator,
                    raws,
                    first=first,
                    name=str(path),
                    fields=paths,
                    source=source,
                    target=self.options.target,
                    options=self._decoding,
                    cache=self._cache,
                    skip_bad=self.options.skip_bad,
                    chunk_segments=self.options.chunk_segments,
                    chunk_chars=self.options.chunk_chars,
                )
                source = batch.source or source
                self.report.segments += batch.segments
                self._count(batch.segments, batch.translated)
                rendered = []
                for record in batch.records:
                    if record.rendered is None:  # left out: error says why
                        self.report.skipped.append(f"{record.error} (record left out)")
                        continue
                    for flag in record.flags:
                        self._flag(str(path), record.line, flag)
                    rendered.append(record.rendered)
                output.append("".join(rendered).encode("utf-8"), lines=first - 1 + len(raws))
                unfinished.kept += len(raws)
                bar.update(len(raws))
            output.finish()
        self._written(out)

    # -- plain text ---------------------------------------------------------------------------

    def _text(self, path: Path, out: Path | None, stdout: TextIO | None) -> None:
        """Plain text read, translated and written a block at a time (see :mod:`tg_edge.textstream`): memory
        stays bounded whatever the length of a line, and the first sentences are out soon after the start."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the with block below
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(HEAD_BYTES)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            refuse_unreadable(
                path, head
            )  # a Parquet file or a PDF read as text: say what to do, not "binary"
        except InputError:
            handle.close()
            raise
        fingerprint = self._fingerprint("txt", str(path.resolve()), str(size))
        output = AppendedOutput(out, fingerprint, resume=self.options.resume) if out is not None else None
        position = output.position if output is not None else {}
        start, line = int(position.get("in", 0)), int(position.get("line", 1))  # type: ignore[call-overload]
        source = self.options.source  # ``auto``: detected on the first block with text, kept for the rest
        with handle, output or nullcontext(), self._bar(size, path.name, "B", initial=start) as bar:
            bar.unit_scale = True
            unfinished = self._unfinished(output, path, start, size, "bytes")
            handle.seek(start)
            blocks = text_blocks(handle, str(path), self.options.chunk_chars, first_line=line)
            for block in _discarding_on_bad_input(blocks, output):
                document = formats.read(block.text, str(path), "txt")
                step = block.size // max(1, len(document.segments))
                result = self._translate(
                    [document],
                    source=source,
                    on_chunk=lambda indices, _, new: self._count(len(indices), new),
                    on_segment=lambda count, step=step: bar.update(count * step),
                )[0]
                source = result.source if document.segments else source
                self.report.segments += len(document.segments)
                for i, flag in result.flags:
                    self._flag(str(path), block.line + document.segments[i].line - 1, flag)
                start, line = start + block.size, block.line + block.text.count("\n")
                if output is not None:
                    output.append(str(result.rendered).encode("utf-8"), **{"in": start, "line": line})
                else:
                    write_stdout(str(result.rendered), stdout)
                unfinished.kept = start
                bar.update(start - bar.n)
                log.info("%s: %d of %d bytes translated", path.name, start, size)
            if output is not None:
                output.finish()
        if out is not None:
            self._written(out)

    def _unfinished(
        self, output: AppendedOutput | None, path: Path, kept: int, total: int, unit: str
    ) -> Unfinished:
        """The file in the works; the report names it when the output has a journal (what --resume keeps)."""
        unfinished = Unfinished(str(path), kept, total, unit)
        if output is not None and not output.streaming:
            self.report.unfinished = unfinished
        return unfinished

    def _written(self, out: Path) -> None:
        self.report.written.append(out)
        self.report.unfinished = None

    # -- shared -------------------------------------------------------------------------------

    def _translate(
        self,
        documents: list[formats.Document],
        *,
        source: Language | str | None = None,
        done: dict[int, SegmentOutcome] | None = None,
        on_chunk=None,
        on_segment=None,
    ) -> list[DocumentTranslation]:
        """The documents through the Translator's one document path, with this job's cache and chunk sizes."""
        return self.translator.translate_documents(
            documents,
            source=source or self.options.source,
            target=self.options.target,
            options=self._decoding,
            done=done,
            cache=self._cache,
            on_chunk=on_chunk,
            on_segment=on_segment,
            chunk_segments=self.options.chunk_segments,
            chunk_chars=self.options.chunk_chars,
        )

    def _count(self, segments: int, new: int) -> None:
        self.report.translated += new
        self.report.cached += segments - new

    def _flag(self, path: str, line: int, flag: Flag) -> None:
        self.report.flagged.append(Flagged(path, line, flag.source, flag.problem, flag.attempts))

    def _fingerprint(self, *parts: str) -> str:
        model = getattr(self.translator, "model_path", "")
        languages = [str(getattr(lang, "code", lang)) for lang in (self.options.source, self.options.target)]
        settings = [*languages, self.options.fields or "", str(model), *parts]
        return hashlib.sha256("\0".join(settings).encode()).hexdigest()

    def _bar(self, total: int, name: str, unit: str, initial: int = 0):
        from tqdm import tqdm

        disable = None if self.options.progress is None else not self.options.progress
        return tqdm(
            total=total,
            initial=initial,
            desc=name,
            unit=unit,
            file=self._stderr,
            disable=disable,
            dynamic_ncols=True,
            smoothing=0.1,
        )


@dataclass(frozen=True)
class RecordOutcome:
    """One JSON Lines record after translation: its rendered line, or why it was left out (``skip_bad``)."""

    line: int
    rendered: str | None
    flags: tuple[Flag, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class TranslatedRecords:
    """A chunk of JSON Lines records translated together."""

    records: list[RecordOutcome]
    source: Language | None
    """The source language used (the detected one with ``auto``); ``None`` when nothing was translated."""
    segments: int
    translated: int
    """Segments that went to the model (the rest came from the cache)."""


def translate_records(
    translator,
    raws: Sequence[bytes],
    *,
    first: int,
    name: str,
    fields: tuple[tuple[str, ...], ...],
    source: Language | str,
    target: Language | str,
    options: TranslationOptions | None = None,
    cache: OutcomeCache | None = None,
    skip_bad: bool = False,
    chunk_segments: int = CHUNK_SEGMENTS,
    chunk_chars: int = CHUNK_CHARS,
) -> TranslatedRecords:
    """Raw JSON Lines records (``first``: the line number of the first) translated at ``fields`` as one chunk of
    one-line documents: each rendered line keeps everything else byte for byte. The one record path of file jobs
    and of the Ray dataset job. A malformed record raises :class:`InputError`, or with ``skip_bad`` comes back
    with its ``error`` and no rendered line."""
    records: list[tuple[int, formats.Document | str]] = []
    for number, raw in enumerate(raws, start=first):
        try:
            check_not_binary(raw, f"{name}, line {number},")
            line = decode_utf8(raw, name, first_line=number)
            builder = formats.Builder(first_line=number)
            jsonl.add_line(builder, line, name, number, fields)
        except InputError as exc:
            if not skip_bad:
                raise
            log.warning("skipped: %s", exc)
            records.append((number, str(exc)))
            continue
        records.append((number, builder.finish()))
    documents = [document for _, document in records if not isinstance(document, str)]
    segments = sum(len(document.segments) for document in documents)
    counted = [0]

    def count(indices: list[int], outcomes: list[SegmentOutcome], new: int) -> None:
        counted[0] += new

    results = iter(
        translator.translate_documents(
            documents,
            source=source,
            target=target,
            options=options,
            cache=cache,
            on_chunk=count,
            chunk_segments=chunk_segments,
            chunk_chars=chunk_chars,
        )
    )
    out, used = [], None
    for number, document in records:
        if isinstance(document, str):
            out.append(RecordOutcome(number, None, error=document))
            continue
        result = next(results)
        used = result.source if segments else None  # a chunk with nothing to translate detected nothing
        out.append(RecordOutcome(number, result.rendered, tuple(flag for _, flag in result.flags)))
    return TranslatedRecords(out, used, segments, counted[0])


def _discarding_on_bad_input(
    blocks: Iterator[TextBlock], output: AppendedOutput | None
) -> Iterator[TextBlock]:
    """``blocks``; a bad one (invalid UTF-8, a NUL byte) discards the output's partial file and journal first."""
    try:
        yield from blocks
    except InputError:
        if output is not None:
            output.discard()
        raise


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _chunks(path: Path, skip: int, most: int, chars: int) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, raw lines) after the first ``skip`` lines, at most ``most`` lines and
    about ``chars`` bytes at a time."""
    with open(path, "rb") as handle:
        chunk: list[bytes] = []
        held = 0
        first = skip + 1
        for number, raw in enumerate(handle, start=1):
            if number <= skip:
                continue
            chunk.append(raw)
            held += len(raw)
            if len(chunk) >= most or held >= chars:
                yield first, chunk
                first += len(chunk)
                chunk, held = [], 0
        if chunk:
            yield first, chunk


def _as_text(rendered: str | bytes) -> str:
    """A text format's rendering (only :data:`formats.BINARY` formats render bytes)."""
    if isinstance(rendered, bytes):
        raise TypeError("a text format rendered bytes")
    return rendered
