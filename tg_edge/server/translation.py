"""The server's one door to the :class:`~tg_edge.Translator`: languages, detection, texts, documents.

Every API module (LibreTranslate's, later DeepL's) calls the translator only through
:class:`TranslationService`, so a change of the Translator's API is adapted here alone. The
``translate_*`` methods block; they run on the admission's worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import formats
from ..detect import Detection, detect_language, detect_languages, warm_up
from ..languages import Language, resolve_language, supported_languages

if TYPE_CHECKING:
    from ..translator import Translator


class TranslationService:
    """One loaded translator as the server uses it. ``source=None`` means: detect the source language."""

    def __init__(self, translator: Translator) -> None:
        self._translator = translator
        warm_up()  # load the language-ID model now, not on the first source=auto request

    @property
    def model_name(self) -> str:
        return self._translator.model_path.name

    @property
    def profile(self) -> str:
        return self._translator.profile

    def language(self, code: str) -> Language:
        """The language ``code`` names; :class:`~tg_edge.errors.LanguageError` when none."""
        return resolve_language(code)

    def languages(self) -> list[Language]:
        """Every language the translator takes, each able to translate into every other."""
        return supported_languages()

    def detect(self, text: str, *, limit: int = 3) -> list[Detection]:
        """Up to ``limit`` candidate languages of ``text``, most likely first."""
        return detect_languages(text, limit=limit)

    def translate_texts(self, texts: Sequence[str], *, source: Language | None,
                        target: Language) -> tuple[list[str], Detection | None]:
        """The translations of ``texts`` in one batch, and the detected source language when ``source`` is None."""
        language, detected = _source(source, texts)
        results = self._translator.translate_many(texts, source=language.code, target=target.code)
        return [result.text for result in results], detected

    def translate_documents(self, documents: Sequence[formats.Document], *, source: Language | None,
                            target: Language) -> tuple[list[str | bytes], Detection | None]:
        """Each document rendered back translated (their segments in one batch), and the detected source."""
        segments = [segment.text for document in documents for segment in document.segments]
        language, detected = _source(source, segments)
        translated = self._translator.translate_many(segments, source=language.code, target=target.code) \
            if segments else []
        results = iter(translated)
        rendered = [document.render([next(results).text for _ in document.segments]) for document in documents]
        return rendered, detected


def _source(source: Language | None, texts: Sequence[str]) -> tuple[Language, Detection | None]:
    """``source``, or the language detected in all ``texts`` together."""
    if source is not None:
        return source, None
    detected = detect_language("\n".join(texts))
    return detected.language, detected
