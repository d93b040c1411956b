"""The server's one door to the :class:`~tg_edge.Translator`: languages, detection, texts, documents.

Every API module (LibreTranslate's, DeepL's) calls the translator only through
:class:`TranslationService`, so a change of the Translator's API is adapted here alone. The
``translate_*`` methods block; they run on the admission's worker threads, and stop at the next
decoding step once the request's :class:`~tg_edge.cancel.Cancellation` is cancelled (its client
left, its time ran out, the server is stopping).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from .. import formats
from ..documents import IN_CHUNKS, Chunking
from ..errors import DetectionError
from ..languages import (
    AUTO,
    MIN_CONFIDENCE,
    Detection,
    Language,
    detect_languages,
    detect_source,
    detection_sample,
    resolve_language,
    supported_languages,
    warm_up,
)
from ..languages.profiles import profile_languages
from .admission import current_cancellation

if TYPE_CHECKING:
    from ..glossary import Glossary
    from ..translator import Translation, Translator

Progress = Callable[[int, int], None]
"""Told ``(segments done, segments in all)`` as a document's translation moves on."""

PROGRESS_STEPS = 20
"""A document with progress shown is sent to the model in about this many chunks (each at least as many
segments as are decoded in parallel, so the batches stay full)."""


@dataclass(frozen=True)
class Part:
    """A stretch of a finished translation: a translated segment (with the problem the guards found) or the text
    between segments."""

    text: str
    problem: str | None = None
    """Why the segment's output is suspect, in words (see :attr:`SegmentResult.problem_message`)."""
    finding: str | None = None
    """The :class:`~tg_edge.guards.Problem`'s short name (``wrong-language``, ``loop``, ``length``, ``empty`` ...)."""


class TranslationService:
    """One loaded translator as the server uses it. ``source=None`` means: detect the source language."""

    def __init__(self, translator: Translator) -> None:
        self._translator = translator
        self._characters = 0
        self._lock = threading.Lock()
        warm_up()  # load the language-ID model now, not on the first source=auto request

    @property
    def model_name(self) -> str:
        return self._translator.model_path.name

    @property
    def profile(self) -> str:
        return self._translator.profile

    @property
    def reads_images(self) -> bool:
        """Whether the loaded model can translate the text in images."""
        return self._translator.reads_images

    def language(self, code: str) -> Language:
        """The language ``code`` names, as the loaded model's prompt profile accepts it;
        :class:`~tg_edge.errors.LanguageError` when none."""
        return self._translator.language(code)

    def languages(self, *, every: bool = False) -> list[Language]:
        """The languages the loaded model is made for (see :mod:`tg_edge.languages.profiles`), or ``every`` one it
        accepts; each translates into every other."""
        return supported_languages() if every else profile_languages(self.profile)

    @property
    def characters(self) -> int:
        """Characters of source text translated since the server started (all APIs together)."""
        return self._characters

    def detect(self, text: str, *, limit: int = 3) -> list[Detection]:
        """Up to ``limit`` candidate languages of ``text``, most likely first."""
        return detect_languages(text, limit=limit)

    def guess_source(self, texts: Sequence[str]) -> Detection:
        """The most likely language of ``texts`` together, never a refusal (DeepL's clients expect none).

        Below LibreTranslate's confidence floor the likeliest of the model's own languages wins, so a short,
        ambiguous text goes to one of them; a text without letters is taken as English, with confidence 0.
        """
        try:
            candidates = detect_languages(detection_sample(texts), limit=12)
        except DetectionError:
            return Detection(resolve_language("en"), 0.0)
        if candidates[0].confidence >= MIN_CONFIDENCE:
            return candidates[0]
        own = {language.base for language in self.languages()}
        return next((c for c in candidates if c.language.base in own), candidates[0])

    def translate_texts(
        self,
        texts: Sequence[str],
        *,
        source: Language | None,
        target: Language,
        terms: Glossary | None = None,
    ) -> tuple[list[str], Detection | None]:
        """The translations of ``texts`` in one batch, and the detected source language when ``source`` is None;
        ``terms``: the glossary and kept terms to follow."""
        results = self._translator.translate_many(
            texts,
            source=source or AUTO,
            target=target,
            options=self._options(terms),
            cancel=current_cancellation(),
        )
        self._count(texts)
        return [result.text for result in results], results[0].detected if results else None

    def translate_stream(
        self,
        text: str,
        *,
        source: Language | None,
        target: Language,
        on_detected: Callable[[Detection], None],
        on_piece: Callable[[str], None],
    ) -> list[Part]:
        """Translate ``text`` handing each decoded piece to ``on_piece`` as it comes (``on_detected`` first
        gets the detected source when ``source`` is None); the finished translation as its parts."""
        if source is None:
            detected = detect_source([text])
            on_detected(detected)
            source = detected.language
        cancel = current_cancellation()
        stream = self._translator.translate_stream(text, source=source, target=target)
        pieces = cast("Generator[str, None, None]", iter(stream))  # a generator: close() stops it
        try:
            for piece in pieces:
                if cancel is not None:
                    cancel.check()
                on_piece(piece)
        finally:
            pieces.close()  # stopped half-way: its decoding jobs are cancelled
        self._count([text])
        return parts_of(cast("Translation", stream.result))  # set once the pieces ran out

    def translate_documents(
        self,
        documents: Sequence[formats.Document],
        *,
        source: Language | None,
        target: Language,
        progress: Progress | None = None,
        terms: Glossary | None = None,
    ) -> tuple[list[str | bytes], Detection | None]:
        """Each document rendered back translated (their segments in one batch), and the detected source;
        ``progress`` hears of every finished chunk (chunks are then smaller, so that it moves)."""
        total = sum(len(document.segments) for document in documents)
        chunking = IN_CHUNKS
        if progress is not None and total:  # a document without text has no progress to tell
            done = [0]

            def on_chunk(indices: list[int], outcomes: object, sent: int) -> None:
                done[0] += len(indices)
                progress(done[0], total)

            progress(0, total)
            size = max(self._translator.parallel, -(-total // PROGRESS_STEPS))
            chunking = Chunking(segments=size, on_chunk=on_chunk)
        results = self._translator.translate_documents(
            documents,
            source=source or AUTO,
            target=target,
            options=self._options(terms),
            chunking=chunking,
            cancel=current_cancellation(),
        )
        self._count([segment.text for document in documents for segment in document.segments])
        return [result.rendered for result in results], results[0].detected if results else None

    def translate_image(self, data: bytes, name: str, *, source: Language, target: Language) -> str:
        """The translation of the text in the image ``data`` (the bytes of an uploaded file called ``name``)."""
        return self._translator.translate_image(data, source=source, target=target, name=name).text

    def _options(self, terms: Glossary | None):  # -> TranslationOptions | None
        return replace(self._translator.options, glossary=terms) if terms else None

    def _count(self, texts: Sequence[str]) -> None:
        with self._lock:
            self._characters += sum(len(text) for text in texts)


def parts_of(translation: Translation) -> list[Part]:
    """``translation``'s text cut into its segments (each with its problem) and the text between them."""
    text, parts, at = translation.text, [], 0
    for segment in translation.segments:
        start = text.find(segment.text, at)
        if start < 0:  # not where expected (never seen): the rest stays one unmarked part
            break
        if start > at:
            parts.append(Part(text[at:start]))
        problem = segment.problem
        parts.append(Part(segment.text, segment.problem_message, problem.value if problem else None))
        at = start + len(segment.text)
    if at < len(text):
        parts.append(Part(text[at:]))
    return parts
