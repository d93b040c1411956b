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
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from . import formats
from .documents import CHUNK_CHARS, CHUNK_SEGMENTS, DocumentTranslation, Flag, OutcomeCache, SegmentOutcome
from .errors import InputError, TgEdgeError, TranslationIncomplete
from .fileio import check_not_binary, decode_utf8, read_binary_file, read_text_file, write_atomically
from .formats import jsonl
from .images import IMAGE_SUFFIXES, is_image_file
from .languages import Language
from .translator import TranslationOptions, Translator, is_auto

log = logging.getLogger("tg_edge")

JOURNAL_SUFFIX = ".tg-edge-journal"
PARTIAL_SUFFIX = ".tg-edge-partial"


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


@dataclass
class JobReport:
    """What a job did: files written, segments translated, what was flagged or skipped."""

    written: list[Path] = field(default_factory=list)
    segments: int = 0
    translated: int = 0
    cached: int = 0
    resumed: int = 0
    flagged: list[Flagged] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def flagged_groups(self) -> list[FlaggedGroup]:
        """:attr:`flagged` with identical flags of a file together, in order of first appearance."""
        groups: dict[tuple[str, str, str], list[Flagged]] = {}
        for flag in self.flagged:
            groups.setdefault((flag.path, flag.source, flag.problem), []).append(flag)
        return [
            FlaggedGroup(path, source, problem, tuple(f.line for f in flags), max(f.attempts for f in flags))
            for (path, source, problem), flags in groups.items()
        ]


def plan(inputs: Sequence[Path], output: Path | str | None) -> list[tuple[Path, Path | None]]:
    """Pairs of (input file, output file) for the given files and directories.

    A directory's files with a known extension are taken recursively and keep their relative
    paths under ``output`` (images too: their text is written to ``NAME.EXT.txt``); a single input file with
    an ``output`` that is not a directory is written to ``output`` itself; no ``output`` means stdout (one
    input file only). An ``output`` given as a string ending in ``/`` is a directory, existing or not;
    several inputs (or a
    directory) into an ``output`` that is a file, or that looks like one (a known file extension,
    not an existing directory), is an error rather than a directory of that name.
    """
    if not inputs:
        raise InputError("no input files")
    files: list[tuple[Path, Path]] = []  # (file, path relative to the output directory)
    for item in inputs:
        if item.is_dir():
            known = (*formats.known_suffixes(), *IMAGE_SUFFIXES)
            found = sorted(
                p
                for p in item.rglob("*")
                if p.is_file() and p.suffix.lower() in known and not p.name.startswith((".", "~$"))
            )  # hidden files, Word's lock files
            if not found:
                raise InputError(f"{item} holds no files of a known format ({', '.join(known)})")
            files.extend((p, _output_name(p.relative_to(item))) for p in found)
        elif item.exists():
            files.append((item, _output_name(Path(item.name))))
        else:
            raise InputError(f"cannot read {item}: no such file or directory")
    single = len(inputs) == 1 and not inputs[0].is_dir()
    if output is None:
        if not single:
            raise InputError("several inputs need -o/--output DIRECTORY")
        return [(files[0][0], None)]
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
        if out is not None and out.resolve() == path.resolve():
            raise InputError(f"the output {out} would overwrite its input; choose another -o")
    return pairs


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

    def run(self, pairs: Sequence[tuple[Path, Path | None]], *, stdout: TextIO | None = None) -> JobReport:
        """Translate every (input, output) pair; with ``skip_bad`` a bad input is reported and passed over,
        and :class:`InputError` comes at the end when every input was."""
        started = time.perf_counter()
        finished = 0
        for path, out in pairs:
            try:
                self.translate_file(path, out, stdout=stdout)
                finished += 1
            except InputError as exc:
                if not self.options.skip_bad:
                    raise
                self.report.skipped.append(str(exc))
                log.warning("skipped: %s", exc)
        self.report.seconds = time.perf_counter() - started
        if pairs and not finished:  # --skip-bad skipped them all: that is no success
            inputs = "the input was" if len(pairs) == 1 else f"all {len(pairs)} inputs were"
            raise InputError(f"nothing was written: {inputs} skipped (see above)")
        self.check_strict()
        return self.report

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
        rendered = _text(self._render(read_text_file(path), path, name, out))
        if out is None:
            (stdout or sys.stdout).write(rendered)
            (stdout or sys.stdout).flush()

    def translate_text(self, text: str, name: str, out: Path | None) -> str:
        """Translate ``text`` (e.g. stdin) in the job's format (plain text by default); written to ``out`` if given."""
        if self.options.format in formats.BINARY:
            raise InputError(f"{self.options.format.upper()} is read from a file: pass it with -i")
        return _text(self._render(text, Path(name), self.options.format or "txt", out))

    def _render(self, text: str | bytes, path: Path, name: str, out: Path | None) -> str | bytes:
        options: dict[str, Any] = {"fields": self.options.fields} if name == "jsonl" else {}
        document = formats.read(text, str(path), name, **options)
        rendered = self._document(document, path, out, name)
        if out is not None:
            write_atomically(out, rendered)
            _journal_path(out).unlink(missing_ok=True)
            self.report.written.append(out)
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
                str(path), 1, Flag(source="", problem=segment.problem or "", attempts=segment.attempts)
            )
        text = result.text + "\n"
        if out is None:
            (stdout or sys.stdout).write(text)
            (stdout or sys.stdout).flush()
        else:
            write_atomically(out, text)
            self.report.written.append(out)

    # -- documents --------------------------------------------------------------------------

    def _document(self, document: formats.Document, path: Path, out: Path | None, name: str) -> str | bytes:
        segments = document.segments
        self.report.segments += len(segments)
        fingerprint = self._fingerprint(name, hashlib.sha256(document.source.encode()).hexdigest())
        journal = _journal_path(out) if out is not None else None
        done = self._load_document_journal(journal, fingerprint, len(segments)) if journal is not None else {}
        self.report.resumed += len(done)
        with (
            self._bar(len(segments), path.name, "seg", initial=len(done)) as bar,
            _Appender(journal, fingerprint, fresh=not done) as log_file,
        ):

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
                bar.update(len(indices))

            result = self._translate([document], done=done, on_chunk=chunk_done)[0]
        for i, flag in result.flags:
            self._flag(str(path), segments[i].line, flag)
        return result.rendered

    def _load_document_journal(
        self, journal: Path, fingerprint: str, count: int
    ) -> dict[int, SegmentOutcome]:
        if not self.options.resume or not journal.exists():
            return {}
        done: dict[int, SegmentOutcome] = {}
        for entry in _read_journal(journal, fingerprint):
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
        journal, partial = _journal_path(out), out.parent / f".{out.name}{PARTIAL_SUFFIX}"
        fingerprint = self._fingerprint("jsonl", str(path.resolve()))
        lines_done, bytes_done = 0, 0
        if self.options.resume and journal.exists() and partial.exists():
            entries = _read_journal(journal, fingerprint)
            if entries:
                lines_done, bytes_done = entries[-1]["lines"], entries[-1]["bytes"]
            if partial.stat().st_size < bytes_done:
                raise TgEdgeError(
                    f"cannot resume {out}: {partial} is shorter than its journal says; "
                    "run again without --resume"
                )
        try:
            total = _count_lines(path)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        mode = "r+b" if lines_done else "wb"
        source = self.options.source  # ``auto``: detected on the first chunk, kept for the rest of the file
        with (
            open(partial, mode) as sink,
            self._bar(total, path.name, "rec", initial=lines_done) as bar,
            _Appender(journal, fingerprint, fresh=not lines_done) as log_file,
        ):
            sink.truncate(bytes_done)
            sink.seek(bytes_done)
            self.report.resumed += lines_done
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
                for record in batch.records:
                    if record.rendered is None:  # left out: error says why
                        self.report.skipped.append(f"{record.error} (record left out)")
                        continue
                    for flag in record.flags:
                        self._flag(str(path), record.line, flag)
                    sink.write(record.rendered.encode("utf-8"))
                sink.flush()
                os.fsync(sink.fileno())
                log_file.write([{"lines": first - 1 + len(raws), "bytes": sink.tell()}])
                bar.update(len(raws))
        os.replace(partial, out)
        journal.unlink(missing_ok=True)
        self.report.written.append(out)

    # -- shared -------------------------------------------------------------------------------

    def _translate(
        self,
        documents: list[formats.Document],
        *,
        source: Language | str | None = None,
        done: dict[int, SegmentOutcome] | None = None,
        on_chunk=None,
    ) -> list[DocumentTranslation]:
        """The documents through the Translator's one document path, with this job's cache and chunk sizes."""
        if not any(document.segments for document in documents) and is_auto(source or self.options.source):
            source = "en"  # nothing to detect from, nothing to translate: any language renders the skeleton
        return self.translator.translate_documents(
            documents,
            source=source or self.options.source,
            target=self.options.target,
            options=self._decoding,
            done=done,
            cache=self._cache,
            on_chunk=on_chunk,
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
    if not segments and is_auto(source):
        source = "en"  # nothing to detect from, nothing to translate: any language renders the skeleton
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


class _Appender:
    """The journal beside an output: a header line with the job's fingerprint, then one JSON line per entry."""

    def __init__(self, path: Path | None, fingerprint: str, *, fresh: bool) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.fresh = fresh
        self._handle: TextIO | None = None

    def __enter__(self) -> _Appender:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w" if self.fresh else "a", encoding="utf-8")
            if self.fresh:
                self._write({"fingerprint": self.fingerprint, "tg_edge_journal": 1})
        return self

    def write(self, entries: list[dict[str, object]]) -> None:
        if self._handle is not None and entries:
            for entry in entries:
                self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def _write(self, entry: dict[str, object]) -> None:
        self.write([entry])

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()


def _journal_path(out: Path) -> Path:
    return out.parent / f".{out.name}{JOURNAL_SUFFIX}"


def _text(rendered: str | bytes) -> str:
    """A text format's rendering (only :data:`formats.BINARY` formats render bytes)."""
    if isinstance(rendered, bytes):
        raise TypeError("a text format rendered bytes")
    return rendered


def _read_journal(path: Path, fingerprint: str) -> list[dict[str, Any]]:  # JSON lines
    """The journal's complete entries (a line cut by a kill is ignored); refuses another job's journal."""
    lines = path.read_text(encoding="utf-8").split("\n")
    entries = []
    for line in lines[:-1]:  # the last item is "" after a complete line, or a cut line
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            break
    if not entries or entries[0].get("fingerprint") != fingerprint:
        raise TgEdgeError(
            f"cannot resume from {path}: it belongs to another job (other input, languages, fields "
            "or model); run again without --resume to start over"
        )
    return entries[1:]


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
