"""What a translation call returns: the translation, its segments, and the checks made on them once it is done."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import TranslationIncomplete
from .guards import SegmentResult
from .languages import Language
from .segment import Piece, join_pieces

if TYPE_CHECKING:
    from .languages import Detection
    from .options import TranslationOptions

log = logging.getLogger("tg_edge")


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


def assemble(
    pieces: Sequence[Piece],
    results: Sequence[SegmentResult],
    source: Language,
    target: Language,
    profile: str,
    options: TranslationOptions,
    seconds: float,
    detected: Detection | None,
) -> Translation:
    """Put the segments' translations back into the skeleton."""
    return Translation(
        text=join_pieces(pieces, (r.text for r in results)),
        source=source,
        target=target,
        profile=profile,
        options=options,
        segments=tuple(results),
        seconds=seconds,
        detected=detected,
    )


def unchanged(
    text: str,
    source: Language,
    target: Language,
    profile: str,
    options: TranslationOptions,
    detected: Detection | None,
) -> Translation:
    """``text`` as it is: its source language is the target language (see :func:`same_language`), and the
    model could only change it."""
    log.info("the source language is the target language (%s): the text comes back unchanged", target.code)
    return Translation(
        text=text, source=source, target=target, profile=profile, options=options, detected=detected
    )


def log_problems(translations: Sequence[Translation]) -> None:
    """One warning per kind of problem in a call, however many segments share it: where and what, never
    the text (segments are numbered across the call's texts)."""
    found: dict[str, list[int]] = {}
    segments = [segment for translation in translations for segment in translation.segments]
    for number, segment in enumerate(segments, start=1):
        if segment.problem_message:
            found.setdefault(segment.problem_message, []).append(number)
    for problem, numbers in found.items():
        if len(numbers) == 1:
            log.warning("segment %d of %d %s", numbers[0], len(segments), problem)
        else:
            shown = ", ".join(map(str, numbers[:8])) + (", …" if len(numbers) > 8 else "")
            log.warning(
                "%d of %d segments each %s (segments %s)", len(numbers), len(segments), problem, shown
            )


def check_strict(translations: Sequence[Translation], options: TranslationOptions) -> None:
    if not options.strict:
        return
    problems = [p for t in translations for p in t.problems]
    if problems:
        total = sum(len(t.segments) for t in translations)
        error = TranslationIncomplete(incomplete_message(len(problems), total, problems[0].problem_message))
        error.translations = list(translations)
        raise error


def incomplete_message(bad: int, total: int, first: str | None) -> str:
    return f"{bad} of {total} segments {first}" + (" (and others)" if bad > 1 else "")


def whole_stream(translation: Translation) -> Generator[str, None, Translation]:
    """A finished translation as a stream of one piece."""
    if translation.text:
        yield translation.text
    return translation
