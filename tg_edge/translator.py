"""The Translator: text in, translated text out, through segment → prompt → engine → reassemble."""

from __future__ import annotations

import bisect
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import guards
from .cancel import Cancellation, check
from .courses import OnDone, start_courses
from .documents import (
    IN_CHUNKS,
    Chunking,
    DocumentTranslation,
    detection_sample,
    render_documents,
    translate_segments,
)
from .errors import (
    Cancelled,
    GlossaryError,
    ImagesUnsupported,
    LanguageError,
    ProjectorError,
    TgEdgeError,
    TranslationIncomplete,
)
from .glossary import Glossary
from .guards import Problem
from .images import ImageLike, read_image
from .langcheck import copy_start
from .languages import Language, language_code, resolve_language, same_language
from .models import find_projector, resolve_model
from .prompts import FEWSHOT, TRANSLATEGEMMA, Prompt, detect_profile, make_profile
from .segment import Piece, join_pieces, split_text
from .steering import TermSteer, term_steer

if TYPE_CHECKING:
    from .detect import Detection
    from .formats import Document
    from .projector import ImagePrompt, Projector
    from .scheduler import Generation, Job, Stop

AUTO = "auto"
"""The source language that means: detect it from the text."""

LanguageLike = Language | str

log = logging.getLogger("tg_edge")


@dataclass(frozen=True)
class TranslationOptions:
    """Decoding and segmentation settings; echoed back in every :class:`Translation`."""

    max_segment_tokens: int = 512
    """Longest unit of source text sent to the model at once, in tokens."""
    output_ratio: float = 3.0
    """A segment may produce up to ``output_ratio`` × its tokens + ``output_slack`` tokens."""
    output_slack: int = 24
    unit: str = "auto"
    """What one unit is: ``paragraph`` (a line, cut only when over budget), ``sentence``, or ``auto``
    (sentences for the few-shot profile, whose base models translate one sentence at a time)."""
    check_language: bool = True
    """Check that every output sentence is in the target language (retry and flag it when not); off for
    text meant to stay mixed."""
    strict: bool = False
    """Raise :class:`TranslationIncomplete` when a segment was cut, looped or came back empty."""
    glossary: Glossary | Mapping[str, str] | str | os.PathLike[str] | None = None
    """Terms the translation must use: a :class:`~tg_edge.glossary.Glossary`, ``{source term: target term}``
    or a TSV/CSV file's path (see :mod:`tg_edge.glossary`); a unit that misses one is retried, then flagged."""
    keep: tuple[str, ...] = ()
    """Terms never translated (names, brands): each must come back verbatim."""

    def __post_init__(self) -> None:
        glossary = self.glossary
        if glossary is not None and not isinstance(glossary, Glossary):
            glossary = (
                Glossary.from_dict(glossary)
                if isinstance(glossary, Mapping)
                else Glossary.from_file(Path(glossary))
            )
            object.__setattr__(self, "glossary", glossary)
        object.__setattr__(self, "keep", (self.keep,) if isinstance(self.keep, str) else tuple(self.keep))
        if self.max_segment_tokens < 8:
            raise ValueError("max_segment_tokens must be at least 8")
        if self.output_ratio <= 0 or self.output_slack < 0:
            raise ValueError("output_ratio must be positive and output_slack not negative")
        if self.unit not in ("auto", "paragraph", "sentence"):
            raise ValueError("unit must be auto, paragraph or sentence")

    def terms(self, source: Language | str, target: Language | str) -> Glossary | None:
        """The glossary and kept terms of a call from ``source`` to ``target`` in one, ``None`` when there are
        none; :class:`GlossaryError` when the glossary is for another language pair."""
        glossary = self.glossary if isinstance(self.glossary, Glossary) else None
        if glossary is not None and not glossary.applies_to(source, target):
            raise GlossaryError(
                f"the glossary is for {glossary.source}→{glossary.target}, not {language_code(source)}→"
                f"{language_code(target)}"
            )
        merged = Glossary.from_dict(
            glossary.entries if glossary else (), keep=(*(glossary.keep if glossary else ()), *self.keep)
        )
        return merged or None


@dataclass(frozen=True)
class SegmentResult:
    """One unit of source text and its translation."""

    source: str
    text: str
    stop: Stop
    prompt_tokens: int
    new_tokens: int
    reused_tokens: int
    seconds: float
    """From submission to the last token (segments decoded together overlap in time)."""
    prompt_seconds: float = 0.0
    """Time llama.cpp spent on batches carrying this segment's own prompt tokens."""
    first_token_seconds: float = 0.0
    guard: Problem | None = None
    """The guards' finding on the output kept after retrying (see tg_edge.guards), or ``None``."""
    attempts: int = 1
    """How many times the unit (or its pieces, split finer) was translated."""

    @property
    def finding(self) -> Problem | None:
        """What is suspect about this segment's output, or ``None``."""
        if self.guard is not None:
            return Problem(self.guard)
        if self.stop in (Problem.LENGTH.value, Problem.LOOP.value):
            return Problem(self.stop)
        if not self.text.strip():
            return Problem.EMPTY
        return None

    @property
    def problem(self) -> str | None:
        """Why this segment's output is suspect, in words, or ``None``."""
        finding = self.finding
        return finding.message if finding else None


@dataclass(frozen=True)
class Translation:
    """A finished translation with what happened on the way; ``str(translation)`` is its text."""

    text: str
    source: Language
    target: Language
    profile: str
    options: TranslationOptions
    segments: tuple[SegmentResult, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    detected: Detection | None = None
    """The detected source language and its confidence when the source was ``auto``."""

    @property
    def problems(self) -> list[SegmentResult]:
        """The segments whose output was cut, looped or came back empty."""
        return [s for s in self.segments if s.problem]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ImageTranslation(Translation):
    """The translation of the text in an image, with what the image cost."""

    image: str = ""
    """The image's file name (or what the caller called its bytes)."""
    image_tokens: int = 0
    """Embedding tokens the vision encoder made of the image."""
    image_seconds: float = 0.0
    """Seconds spent encoding the image and evaluating its prompt (until the first new token could come)."""


class TranslationStream:
    """Iterate to get the translation piece by piece; ``result`` holds the :class:`Translation` after."""

    def __init__(self, events: Generator[str, None, Translation]) -> None:
        self._events = events
        self.result: Translation | None = None

    def __iter__(self) -> Iterator[str]:
        self.result = yield from self._events


class Translator:
    """A translation model loaded once, ready to translate many texts.

    ``model`` is a path to a GGUF file or a short name (see :func:`tg_edge.available_models`);
    ``None`` uses ``TG_EDGE_MODEL`` or the demo model. ``options`` are the defaults of every call;
    each call can pass its own.

    Languages are a :class:`Language` or a code (``en``, ``pt-BR``, ``Bavarian``); the source may be
    ``"auto"`` to detect it from the text. The TranslateGemma profile accepts its model's 55+ language
    table; the chat and few-shot profiles any language with a known BCP-47 / ISO 639 code.

    ``gpu_layers``: layers offloaded to the GPU; ``None`` or ``"auto"`` offloads as many as fit its free
    memory (none without a GPU backend), -1 all of them. ``mmproj``: the vision projector GGUF for
    :meth:`translate_image` [default: the one beside the model file], loaded on first use. ``kv_type``:
    the KV cache's element type, ``"f16"`` or ``"q8_0"`` (half the memory, for long documents).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        gpu_layers: int | str | None = None,
        n_ctx: int = 4096,
        parallel: int | None = None,
        prompt_profile: str | None = None,
        options: TranslationOptions | None = None,
        mmproj: str | os.PathLike[str] | None = None,
        kv_type: str = "f16",
    ) -> None:
        from .engine import Engine, gpu_available  # llama.cpp loads only when a model does
        from .scheduler import Scheduler

        self.model_path: Path = resolve_model(model)
        self._mmproj = Path(mmproj) if mmproj is not None else None
        if self._mmproj is not None and not self._mmproj.is_file():
            raise ProjectorError(f"no vision projector file {self._mmproj}")
        self._projector: Projector | None = None
        self._projector_lock = threading.Lock()
        self.options = options or TranslationOptions()
        if parallel is not None and parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.parallel = parallel or default_parallel(n_ctx, gpu=gpu_layers != 0 and gpu_available())
        self._engine = Engine(
            self.model_path,
            n_ctx=n_ctx,
            threads=threads,
            gpu_layers=gpu_layers,
            n_seq_max=self.parallel + 1,
            kv_type=kv_type,
        )
        self._scheduler = Scheduler(self._engine, parallel=self.parallel)
        try:
            self.profile = prompt_profile or detect_profile(self._engine.metadata)
            self._prompts = make_profile(
                self.profile,
                self._engine.metadata,
                bos_token=self._engine.token_text(self._engine.bos_token),
                eos_token=self._engine.token_text(self._engine.eos_token),
            )
        except TgEdgeError:
            self.close()
            raise
        log.info(
            "loaded %s (prompt profile %s, %d threads, %d parallel sequences)",
            self.model_path,
            self.profile,
            self._engine.threads,
            self.parallel,
        )

    @property
    def engine(self):
        return self._engine

    @property
    def threads(self) -> int:
        """The CPU threads decoding now: fixed when a count was given, else following the machine's load."""
        return self._engine.threads

    @property
    def reads_images(self) -> bool:
        """Whether :meth:`translate_image` can work: an image prompt and a vision projector (not loaded here)."""
        return self._prompts.reads_images and (
            self._mmproj is not None or find_projector(self.model_path) is not None
        )

    def language(self, language: LanguageLike) -> Language:
        """``language`` as this model accepts it: a code resolved once, a :class:`Language` checked against
        the table of this model's prompt profile. Raises :class:`LanguageError` naming close matches."""
        return resolve_language(language, any_language=self._prompts.any_language)

    def translate(
        self,
        text: str,
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
    ) -> Translation:
        """Translate ``text`` from ``source`` (or ``"auto"``) to ``target``.

        When the source language (given or detected) is the target language, the text comes back byte for
        byte without the model (so do documents, streams and batches; see :func:`~tg_edge.languages.same_language`).
        """
        return self.translate_many([text], source=source, target=target, options=options)[0]

    def translate_many(
        self,
        texts: Sequence[str],
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
        cancel: Cancellation | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Translation]:
        """Translate several texts at once, results in input order; ``progress(n)`` hears of texts as they finish.

        Their segments are decoded together as parallel sequences; concurrent calls from
        several threads share the model and are batched together (this is the server's path).
        With ``source="auto"`` the language is detected from all texts together. Once ``cancel``
        is cancelled (from any thread), decoding stops at the next step and
        :class:`~tg_edge.errors.Cancelled` is raised.
        """
        options = options or self.options
        check(cancel)
        src, tgt, detected = self._languages(source, target, texts)
        if same_language(src, tgt):
            return [self._unchanged(text, src, tgt, options, detected) for text in texts]
        started = time.perf_counter()
        split = [self._split(text, src, options) for text in texts]
        units = [piece.text for pieces in split for piece in pieces if piece.translate]
        on_unit = _texts_done([sum(p.translate for p in pieces) for pieces in split], progress)
        results = iter(self._translate_units(units, src, tgt, options, cancel, on_unit))
        seconds = time.perf_counter() - started
        translations = []
        for pieces in split:
            mine = [next(results) for piece in pieces if piece.translate]
            translations.append(self._assemble(pieces, mine, src, tgt, options, seconds, detected))
        _log_problems(translations)
        _check_strict(translations, options)
        return translations

    def translate_stream(
        self,
        text: str,
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
    ) -> TranslationStream:
        """Translate piece by piece as tokens come: ``for piece in stream: ...``, then ``stream.result``."""
        options = options or self.options
        src, tgt, detected = self._languages(source, target, [text])
        if same_language(src, tgt):
            return TranslationStream(_whole(self._unchanged(text, src, tgt, options, detected)))
        return TranslationStream(self._run(text, src, tgt, options, detected))

    def translate_documents(
        self,
        documents: Sequence[Document],
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
        chunking: Chunking = IN_CHUNKS,
        cancel: Cancellation | None = None,
    ) -> list[DocumentTranslation]:
        """Translate documents read by :mod:`tg_edge.formats` and render each back into its format.

        Segments go to the model a chunk at a time; ``chunking`` holds a job's sizes, outcomes known already,
        cache and callbacks (see :class:`~tg_edge.documents.Chunking`), ``cancel`` stops the work (see
        :meth:`translate_many`). With ``options.strict`` a suspect segment
        raises :class:`TranslationIncomplete` after all documents are translated; the error's
        ``documents`` hold them.
        """
        options = options or self.options
        texts = [segment.text for document in documents for segment in document.segments]
        src, tgt, detected = self._languages(source, target, texts)
        unstrict = replace(options, strict=False)
        outcomes = translate_segments(
            texts,
            lambda todo: self.translate_many(
                todo, source=src, target=tgt, options=unstrict, cancel=cancel, progress=chunking.on_segment
            ),
            key=(src.code, tgt.code + (f"+{terms.key}" if (terms := options.terms(src, tgt)) else "")),
            chunking=chunking,
        )
        check(cancel)
        results = render_documents(documents, outcomes, source=src, target=tgt, detected=detected)
        flags = [flag for result in results for _, flag in result.flags]
        if options.strict and flags:
            error = TranslationIncomplete(_incomplete_message(len(flags), len(texts), flags[0].problem))
            error.documents = results
            raise error
        return results

    def translate_image(
        self,
        image: ImageLike,
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
        name: str | None = None,
    ) -> ImageTranslation:
        """Translate the text in ``image`` (a file path or the file's bytes; ``name`` labels bytes in errors)
        from ``source`` to ``target`` with the model's vision projector. The source language must be given:
        there is no text to detect it from."""
        options = options or self.options
        src, tgt = self._image_languages(source, target)
        picture = read_image(image, name=name)
        prompt = self.image_prompt(picture, source=src, target=tgt)
        started = time.perf_counter()
        try:
            most = min(self._engine.n_ctx - prompt.n_pos, IMAGE_MAX_TOKENS)
            if most < 1:
                raise TgEdgeError(
                    f"the image prompt takes {prompt.n_pos} positions, more than the context of "
                    f"{self._engine.n_ctx} tokens; use a larger --ctx"
                )
            projector = self.projector()
            generation = self._scheduler.submit_prefilled(
                lambda seq: projector.evaluate(prompt, seq=seq), prompt.n_pos, max_tokens=most
            ).result()
        finally:
            prompt.close()
        segment = _segment_result("", generation)
        segment = replace(
            segment,
            guard=guards.check_image(segment.text, segment.stop, target=tgt, language=options.check_language),
        )
        translation = ImageTranslation(
            text=segment.text,
            source=src,
            target=tgt,
            profile=self.profile,
            options=options,
            segments=(segment,),
            seconds=time.perf_counter() - started,
            image=picture.name,
            image_tokens=prompt.image_tokens,
            image_seconds=generation.prompt_s,
        )
        _log_problems([translation])
        _check_strict([translation], options)
        return translation

    def render_image_prompt(self, *, source: LanguageLike, target: LanguageLike) -> str:
        """The exact prompt text this model gets for an image, the image marker where the image goes."""
        src, tgt = self._image_languages(source, target)
        return self._prompts.render_image(src, tgt).text

    def image_prompt(self, image: ImageLike, *, source: LanguageLike, target: LanguageLike) -> ImagePrompt:
        """The chunks (text token ids, the image's tokens) this model gets for ``image``, for checking and
        debugging; close it after use."""
        text = self.render_image_prompt(source=source, target=target)
        return self.projector().tokenize(text, read_image(image))

    def projector(self) -> Projector:
        """The vision projector, loaded on first use; :class:`ImagesUnsupported` when the model has none."""
        with self._projector_lock:
            if self._projector is None:
                from .projector import Projector

                path = self._mmproj or find_projector(self.model_path)
                if path is None:
                    raise ImagesUnsupported(
                        f"{self.model_path.name} has no vision projector beside it (an mmproj GGUF), so it cannot "
                        "read images: pass --mmproj FILE, or pull a model with one (tg-edge models pull "
                        "translategemma-4b fetches it)"
                    )
                self._projector = Projector(self._engine, path)
                log.info("loaded the vision projector %s", path)
            return self._projector

    def render_prompt(self, text: str, *, source: LanguageLike, target: LanguageLike) -> str:
        """The exact prompt this model gets for one unit of ``text`` (for checking and debugging)."""
        src, tgt, _ = self._languages(source, target, [text])
        return self._prompts.render(text, src, tgt).text

    def prompt_tokens(self, text: str, *, source: LanguageLike, target: LanguageLike) -> list[int]:
        """The tokens the model gets for one unit of ``text``: :meth:`render_prompt`'s text with exactly one BOS."""
        src, tgt, _ = self._languages(source, target, [text])
        return self._prompt_tokens(self._prompts.render(text, src, tgt))

    def close(self) -> None:
        """Free the model now rather than at garbage collection."""
        self._scheduler.close()
        if self._projector is not None:
            self._projector.close()
        self._engine.close()

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _languages(
        self, source: LanguageLike, target: LanguageLike, texts: Sequence[str]
    ) -> tuple[Language, Language, Detection | None]:
        """The call's languages, resolved once; ``auto`` is detected from ``texts`` (all of them together)."""
        tgt = self.language(target)
        if not is_auto(source):
            return self.language(source), tgt, None
        detected = detect_source(texts)
        log.info(
            "detected source language %s (%s), confidence %.2f",
            detected.language.name,
            detected.language.code,
            detected.confidence,
        )
        return self.language(detected.language), tgt, detected

    def _unchanged(
        self,
        text: str,
        source: Language,
        target: Language,
        options: TranslationOptions,
        detected: Detection | None,
    ) -> Translation:
        """``text`` as it is: its source language is the target language (see :func:`same_language`), and the
        model could only change it."""
        log.info(
            "the source language is the target language (%s): the text comes back unchanged", target.code
        )
        return Translation(
            text=text, source=source, target=target, profile=self.profile, options=options, detected=detected
        )

    def _image_languages(self, source: LanguageLike, target: LanguageLike) -> tuple[Language, Language]:
        refuse_auto_for_images(source)
        if not self._prompts.reads_images:
            raise ImagesUnsupported(
                f"{self.model_path.name} cannot read images: the {self.profile} prompt profile has no prompt for "
                "images; image translation needs a TranslateGemma model (prompt profile translategemma) with its "
                "vision projector (tg-edge models pull translategemma-4b fetches both)"
            )
        return self.language(source), self.language(target)

    def _run(
        self,
        text: str,
        source: Language,
        target: Language,
        options: TranslationOptions,
        detected: Detection | None,
    ) -> Generator[str, None, Translation]:
        """Submit every unit at once, then stream them in order: later units decode while earlier ones print."""
        started = time.perf_counter()
        terms = options.terms(source, target)
        pieces = self._split(text, source, options)
        jobs = self._submit(
            [piece.text for piece in pieces if piece.translate],
            source,
            target,
            options,
            stream=True,
            terms=terms,
        )
        results: list[SegmentResult] = []
        try:
            for piece in pieces:
                if not piece.translate:
                    yield piece.text
                    continue
                job = jobs[len(results)]
                streamed = False
                for chunk in _trimmed(job.pieces()):
                    streamed = True
                    yield chunk
                result = _segment_result(piece.text, job.result())
                if not streamed:  # nothing came: the source text stands in (see guards.keep_source)
                    result = guards.keep_source(piece.text, result)
                    yield result.text
                elif result.guard is None:  # printed already: too late to retry, never too late to flag
                    result = replace(
                        result,
                        guard=guards.check(
                            piece.text,
                            result.text,
                            result.stop,
                            source=source.code,
                            target=target.code,
                            language=options.check_language,
                            terms=terms,
                        ),
                    )
                results.append(result)
        finally:
            for job in jobs:
                job.cancel()  # a stream abandoned half-way frees its sequences
        translation = self._assemble(
            pieces, results, source, target, options, time.perf_counter() - started, detected
        )
        _log_problems([translation])
        _check_strict([translation], options)
        return translation

    def _assemble(
        self,
        pieces: list[Piece],
        results: list[SegmentResult],
        source: Language,
        target: Language,
        options: TranslationOptions,
        seconds: float,
        detected: Detection | None,
    ) -> Translation:
        """Put the segments' translations back into the skeleton."""
        return Translation(
            text=join_pieces(pieces, (r.text for r in results)),
            source=source,
            target=target,
            profile=self.profile,
            options=options,
            segments=tuple(results),
            seconds=seconds,
            detected=detected,
        )

    def _split(self, text: str, source: Language, options: TranslationOptions) -> list[Piece]:
        unit = options.unit
        sentences = unit == "sentence" or (unit == "auto" and self.profile == FEWSHOT)
        return split_text(
            text,
            self._engine.count_tokens,
            options.max_segment_tokens,
            language=source.code,
            sentences=sentences,
        )

    def _translate_units(
        self,
        units: Sequence[str],
        source: Language,
        target: Language,
        options: TranslationOptions,
        cancel: Cancellation | None = None,
        on_unit: Callable[[], None] | None = None,
    ) -> list[SegmentResult]:
        """Translate units of text (each within the segment budget) together, results in order.

        Each unit's output is checked as soon as it is decoded; one that looks cut, looped, empty, of the
        wrong length or in the wrong language is split finer or prompted again right away (see
        :func:`tg_edge.guards.mend`), its retries decoded in the same batches as the other units. The
        better output is kept and marked."""
        check(cancel)
        terms = options.terms(source, target)
        how: dict[str, Any] = {  # translate_and_mend's keyword arguments
            "source": source.code,
            "target": target.code,
            "alternate": self._prompts.alternates,
            "language": options.check_language,
            "terms": terms,
        }

        def submit(requests: Sequence[guards.Request], on_done: Sequence[OnDone]) -> list[Job]:
            return self._submit(
                [text for text, _ in requests],
                source,
                target,
                options,
                again=[again for _, again in requests],
                on_done=on_done,
                abandon_copies=options.check_language,
                terms=terms,
            )

        courses = start_courses(
            [guards.translate_and_mend(unit, **how) for unit in units], submit, _segment_result
        )
        try:
            with cancel.watch(courses) if cancel is not None else nullcontext():
                results = []
                for course in courses:
                    results.append(course.result())  # re-raises what ended a unit
                    if on_unit is not None:
                        on_unit()
            check(cancel)  # a cancelled job comes back cut short: not a translation
            kept = [result for result in results if result is not None]
            if len(kept) < len(results):
                raise Cancelled("cancelled")
            return kept
        finally:
            for course in courses:
                course.cancel()  # after an error or Ctrl-C, do not leave work queued

    def _submit(
        self,
        units: Sequence[str],
        source: Language,
        target: Language,
        options: TranslationOptions,
        *,
        stream: bool = False,
        again: Sequence[bool] | None = None,
        on_done: Sequence[OnDone] | None = None,
        abandon_copies: bool = False,
        terms: Glossary | None = None,
    ) -> list[Job]:
        """Hand every unit to the scheduler in one piece (see :meth:`Scheduler.submit_many`); with
        ``abandon_copies``, an output that begins as a copy of its unit is not decoded to its end (the guards
        take it for the copy it was writing; see :func:`tg_edge.langcheck.copy_start`). ``terms``' target
        terms are written into each unit before it is prompted (see :meth:`Glossary.place`)."""
        prompts, budgets, steers = [], [], []
        stop_at_newline = False
        for text, retry in zip(units, again or [False] * len(units), strict=True):
            placed = terms.place(text, source) if terms else text
            steers.append(self._steer(text, source, terms) if terms else None)
            prompt: Prompt = self._prompts.render(placed, source, target, again=retry)
            tokens = self._prompt_tokens(prompt)
            budget = int(self._engine.count_tokens(text) * options.output_ratio) + options.output_slack
            prompts.append(tokens)
            budgets.append(max(1, min(budget, self._engine.n_ctx - len(tokens))))
            stop_at_newline = prompt.stop_at_newline
        abandon = (
            [copy_start(text, source=source.code, target=target.code) for text in units]
            if abandon_copies
            else None
        )
        return self._scheduler.submit_many(
            prompts,
            max_tokens=budgets,
            stop_at_newline=stop_at_newline,
            stream=stream,
            on_done=on_done,
            abandon=abandon,
            steer=steers if terms else None,
        )

    def _steer(self, text: str, source: Language, terms: Glossary) -> TermSteer | None:
        """What steers a unit's decoding toward its required terms (see :mod:`tg_edge.steering`)."""
        required = [(m.required, m.keep) for m in terms.matches(text, source)]
        return term_steer(required, lambda s: self._engine.tokenize(s, add_bos=False, special=False))

    def _prompt_tokens(self, prompt: Prompt) -> list[int]:
        """Tokens of a rendered prompt with exactly one BOS (templates that emit it get no second one)."""
        bos = self._engine.token_text(self._engine.bos_token)
        add_bos = self._engine.adds_bos and not prompt.text.startswith(bos)
        return self._engine.tokenize(prompt.text, add_bos=add_bos)


IMAGE_MAX_TOKENS = 2048
"""The most tokens the translation of one image's text may take (TranslateGemma's own context is 2K)."""


def translate(
    text: str, *, source: LanguageLike, target: LanguageLike, model: str | os.PathLike[str] | None = None
) -> str:
    """Translate once with a freshly loaded model; keep a :class:`Translator` to translate many texts."""
    with Translator(model) as translator:
        return translator.translate(text, source=source, target=target).text


def is_auto(source: LanguageLike) -> bool:
    """Whether ``source`` asks for detection."""
    return isinstance(source, str) and source.strip().lower() == AUTO


def refuse_auto_for_images(source: LanguageLike) -> None:
    """An image has no text to detect its language from: ``source="auto"`` is a :class:`LanguageError`."""
    if is_auto(source):
        raise LanguageError(
            "an image's source language cannot be detected (there is no text to detect it "
            "from): give it with -s/source"
        )


def detect_source(texts: Sequence[str]) -> Detection:
    """What ``source="auto"`` means for ``texts``: the language of their first few thousand characters
    together; :class:`DetectionError` when it cannot be told."""
    from .detect import detect_language

    return detect_language(detection_sample(texts))


def accepted_language(language: LanguageLike, profile: str | None = None) -> Language:
    """``language`` resolved (a code) or checked (a :class:`Language`) for a prompt ``profile``; ``None``: any
    language some profile accepts (for checking a command line before a model is loaded)."""
    return resolve_language(language, any_language=profile is None or profile != TRANSLATEGEMMA)


def _log_problems(translations: Sequence[Translation]) -> None:
    """One warning per kind of problem in a call, however many segments share it: where and what, never
    the text (segments are numbered across the call's texts)."""
    found: dict[str, list[int]] = {}
    segments = [segment for translation in translations for segment in translation.segments]
    for number, segment in enumerate(segments, start=1):
        if segment.problem:
            found.setdefault(segment.problem, []).append(number)
    for problem, numbers in found.items():
        if len(numbers) == 1:
            log.warning("segment %d of %d %s", numbers[0], len(segments), problem)
        else:
            shown = ", ".join(map(str, numbers[:8])) + (", …" if len(numbers) > 8 else "")
            log.warning(
                "%d of %d segments each %s (segments %s)", len(numbers), len(segments), problem, shown
            )


def _check_strict(translations: Sequence[Translation], options: TranslationOptions) -> None:
    if not options.strict:
        return
    problems = [p for t in translations for p in t.problems]
    if problems:
        total = sum(len(t.segments) for t in translations)
        error = TranslationIncomplete(_incomplete_message(len(problems), total, problems[0].problem))
        error.translations = list(translations)
        raise error


def _incomplete_message(bad: int, total: int, first: str | None) -> str:
    return f"{bad} of {total} segments {first}" + (" (and others)" if bad > 1 else "")


def default_parallel(n_ctx: int, *, gpu: bool) -> int:
    """How many segments to decode at once: on a CPU the gain levels off at about 16 sequences,
    a GPU keeps gaining far beyond; a sequence needs a few hundred cells of the context."""
    return max(1, min(64 if gpu else 16, n_ctx // 256))


def _whole(translation: Translation) -> Generator[str, None, Translation]:
    """A finished translation as a stream of one piece."""
    if translation.text:
        yield translation.text
    return translation


def _texts_done(units: list[int], progress: Callable[[int], None] | None) -> Callable[[], None] | None:
    """A callback for each unit finished (in order) that tells ``progress`` how many more texts are complete
    (``units``: each text's unit count); texts without units count as soon as those before them are done."""
    if progress is None:
        return None
    ends = list(itertools.accumulate(units))
    state = {"units": 0, "texts": bisect.bisect_right(ends, 0)}
    if state["texts"]:
        progress(state["texts"])

    def unit_done() -> None:
        state["units"] += 1
        texts = bisect.bisect_right(ends, state["units"])
        if texts > state["texts"]:
            progress(texts - state["texts"])
            state["texts"] = texts

    return unit_done


def _trimmed(pieces: Iterator[str]) -> Iterator[str]:
    """Whitespace around the model's answer belongs to the skeleton: drop it at the start and hold
    it back at the end, so the streamed text equals the final (stripped) text."""
    started = False
    held = ""
    for piece in pieces:
        if not started:
            piece = piece.lstrip()
            started = bool(piece)
        body = (held + piece).rstrip()
        held = (held + piece)[len(body) :]
        if body:
            yield body


def _segment_result(source: str, generation: Generation) -> SegmentResult:
    return SegmentResult(
        source=source,
        text=generation.text.strip(),
        stop=generation.stop,
        prompt_tokens=generation.n_prompt,
        new_tokens=generation.n_new,
        reused_tokens=generation.n_reused,
        seconds=generation.seconds,
        prompt_seconds=generation.prompt_s,
        first_token_seconds=generation.first_token_s,
    )
