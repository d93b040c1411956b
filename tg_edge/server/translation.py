"""The server's one door to the :class:`~tg_edge.Translator`: languages, detection, texts, documents.

Every API module (LibreTranslate's, later DeepL's) calls the translator only through
:class:`TranslationService`, so a change of the Translator's API is adapted here alone. The
``translate_*`` methods block; they run on the admission's worker threads, and stop at the next
decoding step once the request's :class:`~tg_edge.cancel.Cancellation` is cancelled (its client
left, its time ran out, the server is stopping).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import formats
from ..detect import Detection, detect_languages, warm_up
from ..languages import Language, supported_languages
from ..translator import AUTO
from .admission import current_cancellation

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
        """The language ``code`` names, as the loaded model's prompt profile accepts it;
        :class:`~tg_edge.errors.LanguageError` when none."""
        return self._translator.language(code)

    def languages(self) -> list[Language]:
        """Every language the translator takes, each able to translate into every other."""
        return supported_languages()

    def detect(self, text: str, *, limit: int = 3) -> list[Detection]:
        """Up to ``limit`` candidate languages of ``text``, most likely first."""
        return detect_languages(text, limit=limit)

    def translate_texts(self, texts: Sequence[str], *, source: Language | None,
                        target: Language) -> tuple[list[str], Detection | None]:
        """The translations of ``texts`` in one batch, and the detected source language when ``source`` is None."""
        results = self._translator.translate_many(texts, source=source or AUTO, target=target,
                                                  cancel=current_cancellation())
        return [result.text for result in results], results[0].detected if results else None

    def translate_documents(self, documents: Sequence[formats.Document], *, source: Language | None,
                            target: Language) -> tuple[list[str | bytes], Detection | None]:
        """Each document rendered back translated (their segments in one batch), and the detected source."""
        if not any(document.segments for document in documents):
            return [document.render([]) for document in documents], None
        results = self._translator.translate_documents(documents, source=source or AUTO, target=target,
                                                       cancel=current_cancellation())
        return [result.rendered for result in results], results[0].detected
