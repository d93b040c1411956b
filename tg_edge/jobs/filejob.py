"""A file job: files translated in their formats with one loaded Translator, a progress bar, a cache and resume.

A document (text, Markdown, HTML, subtitles, DOCX, PDF) is read whole into segments and a skeleton; its
segments go to :meth:`Translator.translate_documents` in large chunks, each finished chunk is appended to a
journal beside the output, and the output is written atomically at the end. Plain text
(:mod:`tg_edge.jobs.text`) and JSON Lines (:mod:`tg_edge.jobs.records`) are streamed a block at a time into
a partial output. ``resume=True`` picks up from the journal: finished segments or records are not redone,
none is written twice. The input is never modified.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from .. import formats
from ..documents import ChunkCallback, Chunking, DocumentTranslation, Flag, OutcomeCache, SegmentOutcome
from ..errors import ImagesUnsupported, InputError
from ..fileio import is_stream, read_binary_file, read_text_file, write_output, write_stdout
from ..images import is_image_file
from ..languages import Language
from ..lognaming import naming_in_warnings
from ..translator import Translator
from .images import translate_image_file
from .journal import AppendedOutput, Appender, journal_path, partial_path, read_journal
from .options import JobOptions, check_job
from .records import translate_jsonl
from .report import Flagged, JobReport, PassedOver, Unfinished
from .text import translate_text_file

log = logging.getLogger("tg_edge")


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
        self.cache = OutcomeCache(options.cache_size)
        self.decoding = replace(options.translation or translator.options, strict=False)

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
        check_job(self.options, pairs)  # every pair before the first: nothing is translated in vain
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
        self.report.check_strict((self.options.translation or self.translator.options).strict)

    def translate_file(self, path: Path, out: Path | None, *, stdout: TextIO | None = None) -> None:
        """Translate one file into ``out`` (atomically), or onto ``stdout`` when ``out`` is None."""
        check_job(self.options, [(path, out)])
        if is_image_file(path) and self.options.format is None:
            translate_image_file(self, path, out, stdout)
            return
        name = formats.format_for(path, self.options.format)
        if formats.format_for(path) == "pdf" and name in ("pdf", "md"):
            self._pdf(path, out, as_text=name == "md", stdout=stdout)
            return
        if name == "txt":
            translate_text_file(self, path, out, stdout)
            return
        if name == "jsonl" and out is not None:
            translate_jsonl(self, path, out)
            return
        if name in formats.BINARY:
            self._render(read_binary_file(path), path, name, out)
            return
        rendered = _as_text(self._render(read_text_file(path), path, name, out))
        if out is None:
            write_stdout(rendered, stdout)

    def translate_text(self, text: str, name: str, out: Path | None) -> str:
        """Translate ``text`` (e.g. stdin) in the job's format (plain text by default); written to ``out`` if given."""
        check_job(self.options, [(None, out)])
        return _as_text(self._render(text, Path(name), self.options.format or "txt", out))

    def _pdf(self, path: Path, out: Path | None, *, as_text: bool, stdout: TextIO | None) -> None:
        """A PDF file into a translated PDF, or into its translated text (Markdown) with ``as_text``, an
        output named ``.md``, or onto ``stdout`` (:func:`check_job` refused a PDF there, and a target language
        whose script the PDF fonts lack)."""
        from ..formats.pdf_scans import scan_reader

        as_text = as_text or (out is not None and formats.format_for(out) == "md")
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
            self.written(out)
        return rendered

    # -- documents --------------------------------------------------------------------------

    def _document(self, document: formats.Document, path: Path, out: Path | None, name: str) -> str | bytes:
        segments = document.segments
        self.report.segments += len(segments)
        fingerprint = self.fingerprint(name, hashlib.sha256(document.source.encode()).hexdigest())
        journal = journal_path(out) if out is not None and not is_stream(out) else None
        done = self._load_document_journal(journal, fingerprint, len(segments)) if journal is not None else {}
        self.report.resumed += len(done)
        if journal is not None:
            self.report.unfinished = unfinished = Unfinished(str(path), len(done), len(segments), "segments")
        with (
            self.bar(len(segments), path.name, "seg", initial=len(done)) as bar,
            Appender(journal, fingerprint, fresh=not done) as log_file,
        ):
            moved = [0]  # the bar moves per segment; a chunk's cached and repeated segments when it ends

            def segment_done(count: int) -> None:
                moved[0] += count
                bar.update(count)

            def chunk_done(indices: list[int], outcomes: list[SegmentOutcome], new: int) -> None:
                self.count(len(indices), new)
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

            result = self.translate([document], done=done, on_chunk=chunk_done, on_segment=segment_done)[0]
        for i, flag in result.flags:
            self.flag(str(path), segments[i].line, flag)
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

    def unfinished(
        self, output: AppendedOutput | None, path: Path, kept: int, total: int, unit: str
    ) -> Unfinished:
        """The file in the works; the report names it when the output has a journal (what --resume keeps)."""
        unfinished = Unfinished(str(path), kept, total, unit)
        if output is not None and not output.streaming:
            self.report.unfinished = unfinished
        return unfinished

    def written(self, out: Path) -> None:
        """Report ``out`` written whole."""
        self.report.written.append(out)
        self.report.unfinished = None

    # -- shared -------------------------------------------------------------------------------

    def translate(
        self,
        documents: list[formats.Document],
        *,
        source: Language | str | None = None,
        done: dict[int, SegmentOutcome] | None = None,
        on_chunk: ChunkCallback | None = None,
        on_segment: Callable[[int], None] | None = None,
    ) -> list[DocumentTranslation]:
        """The documents through the Translator's one document path, with this job's cache and chunk sizes."""
        return self.translator.translate_documents(
            documents,
            source=source or self.options.source,
            target=self.options.target,
            options=self.decoding,
            chunking=Chunking(
                self.options.chunk_segments, self.options.chunk_chars, done, self.cache, on_chunk, on_segment
            ),
        )

    def count(self, segments: int, new: int) -> None:
        """Count ``segments`` done, ``new`` of them by the model (the rest came from the cache)."""
        self.report.translated += new
        self.report.cached += segments - new

    def flag(self, path: str, line: int, flag: Flag) -> None:
        """Report a segment still suspect, at ``line`` of ``path``."""
        self.report.flagged.append(Flagged(path, line, flag))

    def fingerprint(self, *parts: str) -> str:
        """What a journal belongs to: this job's languages, fields and model, and the input's ``parts``."""
        model = getattr(self.translator, "model_path", "")
        languages = [str(getattr(lang, "code", lang)) for lang in (self.options.source, self.options.target)]
        settings = [*languages, self.options.fields or "", str(model), *parts]
        return hashlib.sha256("\0".join(settings).encode()).hexdigest()

    def bar(self, total: int, name: str, unit: str, initial: int = 0):  # -> tqdm
        """A progress bar on this job's stderr (shown when :attr:`JobOptions.progress` says)."""
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


def _as_text(rendered: str | bytes) -> str:
    """A text format's rendering (only :data:`formats.BINARY` formats render bytes)."""
    if isinstance(rendered, bytes):
        raise TypeError("a text format rendered bytes")
    return rendered
