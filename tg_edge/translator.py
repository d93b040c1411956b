"""The Translator: text in, translated text out, through segment → prompt → engine → reassemble."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import guards
from .errors import TgEdgeError, TranslationIncomplete
from .languages import Language, resolve_language
from .models import resolve_model
from .prompts import FEWSHOT, Prompt, detect_profile, make_profile
from .segment import Piece, join_pieces, split_text

if TYPE_CHECKING:
    from .scheduler import Generation

log = logging.getLogger("tg_edge")

_PROBLEMS = {
    "length": "hit the token limit (the translation may be cut)",
    "loop": "stopped by the repetition guard (the model was looping)",
    "empty": "came back empty",
    "ratio": "has a length far outside the usual for this language pair (a part may be missing or repeated)",
}


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
    strict: bool = False
    """Raise :class:`TranslationIncomplete` when a segment was cut, looped or came back empty."""

    def __post_init__(self) -> None:
        if self.max_segment_tokens < 8:
            raise ValueError("max_segment_tokens must be at least 8")
        if self.output_ratio <= 0 or self.output_slack < 0:
            raise ValueError("output_ratio must be positive and output_slack not negative")
        if self.unit not in ("auto", "paragraph", "sentence"):
            raise ValueError("unit must be auto, paragraph or sentence")


@dataclass(frozen=True)
class SegmentResult:
    """One unit of source text and its translation."""

    source: str
    text: str
    stop: str
    prompt_tokens: int
    new_tokens: int
    reused_tokens: int
    seconds: float
    """From submission to the last token (segments decoded together overlap in time)."""
    prompt_seconds: float = 0.0
    """Time llama.cpp spent on batches carrying this segment's own prompt tokens."""
    first_token_seconds: float = 0.0
    guard: str | None = None
    """The guards' finding on the output kept after retrying (see tg_edge.guards), or ``None``."""
    attempts: int = 1
    """How many times the unit (or its pieces, split finer) was translated."""

    @property
    def problem(self) -> str | None:
        """Why this segment's output is suspect, or ``None``."""
        if self.guard in _PROBLEMS:
            return _PROBLEMS[self.guard]
        if self.stop in _PROBLEMS:
            return _PROBLEMS[self.stop]
        if not self.text.strip():
            return _PROBLEMS["empty"]
        return None


@dataclass(frozen=True)
class Translation:
    """A finished translation with what happened on the way."""

    text: str
    source: Language
    target: Language
    profile: str
    options: TranslationOptions
    segments: tuple[SegmentResult, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    @property
    def problems(self) -> list[SegmentResult]:
        """The segments whose output was cut, looped or came back empty."""
        return [s for s in self.segments if s.problem]


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
    ``None`` uses ``TG_EDGE_MODEL`` or the demo model.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        gpu_layers: int | None = None,
        n_ctx: int = 4096,
        parallel: int | None = None,
        prompt_profile: str | None = None,
        options: TranslationOptions | None = None,
    ) -> None:
        from .engine import Engine, gpu_available  # llama.cpp loads only when a model does
        from .scheduler import Scheduler

        self.model_path: Path = resolve_model(model)
        self.options = options or TranslationOptions()
        if parallel is not None and parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.parallel = parallel or default_parallel(n_ctx, gpu=gpu_layers != 0 and gpu_available())
        self._engine = Engine(
            self.model_path, n_ctx=n_ctx, threads=threads, gpu_layers=gpu_layers, n_seq_max=self.parallel + 1
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
            self._engine.close()
            raise
        log.info(
            "loaded %s (prompt profile %s, %d threads, %d parallel sequences)",
            self.model_path, self.profile, self._engine.threads, self.parallel,
        )

    @property
    def engine(self):  # noqa: ANN201 - the Engine type stays out of the public API's imports
        return self._engine

    def translate(self, text: str, *, source: str, target: str) -> str:
        """Translate ``text`` from language ``source`` to ``target`` (codes such as ``en``, ``de``)."""
        return self.translate_result(text, source=source, target=target).text

    def translate_result(self, text: str, *, source: str, target: str) -> Translation:
        """Like :meth:`translate`, with per-segment details and any problems."""
        return self.translate_many([text], source=source, target=target)[0]

    def translate_many(self, texts: Sequence[str], *, source: str, target: str) -> list[Translation]:
        """Translate several texts at once, results in input order.

        Their segments are decoded together as parallel sequences; concurrent calls from
        several threads share the model and are batched together (this is the server's path).
        """
        src = resolve_language(source)
        tgt = resolve_language(target)
        started = time.perf_counter()
        split = [self._split(text, src) for text in texts]
        units = [piece.text for pieces in split for piece in pieces if piece.translate]
        results = iter(self._guarded(units, self._translate_units(units, src, tgt), src, tgt))
        seconds = time.perf_counter() - started
        translations = []
        for pieces in split:
            mine = [next(results) for piece in pieces if piece.translate]
            translations.append(self._finish(pieces, mine, src, tgt, seconds))
        return translations

    def translate_stream(self, text: str, *, source: str, target: str) -> TranslationStream:
        """Translate piece by piece as tokens come: ``for piece in stream: ...``, then ``stream.result``."""
        src = resolve_language(source)
        tgt = resolve_language(target)
        return TranslationStream(self._run(text, src, tgt))

    def render_prompt(self, text: str, *, source: str, target: str) -> str:
        """The exact prompt this model gets for one unit of ``text`` (for checking and debugging)."""
        return self._prompts.render(text, resolve_language(source), resolve_language(target)).text

    def prompt_tokens(self, text: str, *, source: str, target: str) -> list[int]:
        """The tokens the model gets for one unit of ``text``: :meth:`render_prompt`'s text with exactly one BOS."""
        return self._prompt_tokens(self._prompts.render(text, resolve_language(source), resolve_language(target)))

    def close(self) -> None:
        """Free the model now rather than at garbage collection."""
        self._scheduler.close()
        self._engine.close()

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, text: str, source: Language, target: Language) -> Generator[str, None, Translation]:
        """Submit every unit at once, then stream them in order: later units decode while earlier ones print."""
        started = time.perf_counter()
        pieces = self._split(text, source)
        jobs = [self._submit(piece.text, source, target, stream=True) for piece in pieces if piece.translate]
        results: list[SegmentResult] = []
        try:
            for piece in pieces:
                if not piece.translate:
                    yield piece.text
                    continue
                job = jobs[len(results)]
                yield from _trimmed(job.pieces())
                results.append(_segment_result(piece.text, job.result()))
        finally:
            for job in jobs:
                job.cancel()  # a stream abandoned half-way frees its sequences
        return self._finish(pieces, results, source, target, time.perf_counter() - started)

    def _finish(
        self, pieces: list[Piece], results: list[SegmentResult], source: Language, target: Language, seconds: float
    ) -> Translation:
        """Put the segments' translations back into the skeleton; report (or, strict, raise on) problems."""
        translation = Translation(
            text=join_pieces(pieces, (r.text for r in results)),
            source=source,
            target=target,
            profile=self.profile,
            options=self.options,
            segments=tuple(results),
            seconds=seconds,
        )
        for segment in translation.problems:
            log.warning("segment %r %s", _preview(segment.source), segment.problem)
        if self.options.strict and translation.problems:
            raise TranslationIncomplete(
                f"{len(translation.problems)} of {len(results)} segments {translation.problems[0].problem}"
                + (" (and others)" if len(translation.problems) > 1 else "")
            )
        return translation

    def _split(self, text: str, source: Language) -> list[Piece]:
        unit = self.options.unit
        sentences = unit == "sentence" or (unit == "auto" and self.profile == FEWSHOT)
        return split_text(text, self._engine.count_tokens, self.options.max_segment_tokens,
                          language=source.code, sentences=sentences)

    def _guarded(
        self, units: Sequence[str], results: Sequence[SegmentResult], source: Language, target: Language
    ) -> list[SegmentResult]:
        """Units whose output looks cut, looped, empty or of the wrong length are split finer and
        translated again (all of them in one batch per level); the better output is kept and marked."""
        return guards.retry(units, results, lambda subs: self._translate_units(subs, source, target),
                            source=source.code, target=target.code)

    def _translate_units(self, units: Sequence[str], source: Language, target: Language) -> list[SegmentResult]:
        """Translate units of text (each within the segment budget) together, results in order."""
        jobs = [self._submit(unit, source, target) for unit in units]
        try:
            return [_segment_result(unit, job.result()) for unit, job in zip(units, jobs, strict=True)]
        finally:
            for job in jobs:
                job.cancel()  # after an error or Ctrl-C, do not leave work queued

    def _submit(self, text: str, source: Language, target: Language, *, stream: bool = False):  # noqa: ANN202
        prompt: Prompt = self._prompts.render(text, source, target)
        tokens = self._prompt_tokens(prompt)
        budget = int(self._engine.count_tokens(text) * self.options.output_ratio) + self.options.output_slack
        budget = max(1, min(budget, self._engine.n_ctx - len(tokens)))
        return self._scheduler.submit(tokens, max_tokens=budget, stop_at_newline=prompt.stop_at_newline, stream=stream)

    def _prompt_tokens(self, prompt: Prompt) -> list[int]:
        """Tokens of a rendered prompt with exactly one BOS (templates that emit it get no second one)."""
        bos = self._engine.token_text(self._engine.bos_token)
        add_bos = self._engine.adds_bos and not prompt.text.startswith(bos)
        return self._engine.tokenize(prompt.text, add_bos=add_bos)


def translate(text: str, *, source: str, target: str, model: str | os.PathLike[str] | None = None) -> str:
    """Translate once with a freshly loaded model; keep a :class:`Translator` to translate many texts."""
    with Translator(model) as translator:
        return translator.translate(text, source=source, target=target)


def default_parallel(n_ctx: int, *, gpu: bool) -> int:
    """How many segments to decode at once: on a CPU the gain levels off at about 16 sequences,
    a GPU keeps gaining far beyond; a sequence needs a few hundred cells of the context."""
    return max(1, min(64 if gpu else 16, n_ctx // 256))


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
        held = (held + piece)[len(body):]
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


def _preview(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
