"""``source="auto"``: what asks for detection, and what it is detected from.

Entry points (CLI, file jobs, servers, Ray) pass ``auto`` on as the user gave it; the Translator detects.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import LanguageError
from .codes import Language
from .detect import Detection, detect_language

AUTO = "auto"
"""The source language that means: detect it from the text."""


def is_auto(source: Language | str | None) -> bool:
    """Whether ``source`` asks for detection."""
    return isinstance(source, str) and source.strip().lower() == AUTO


def refuse_auto_for_images(source: Language | str) -> None:
    """An image has no text to detect its language from: ``source="auto"`` is a :class:`LanguageError`."""
    if is_auto(source):
        raise LanguageError(
            "an image's source language cannot be detected (there is no text to detect it "
            "from): give it with -s/source"
        )


def detect_source(texts: Sequence[str]) -> Detection:
    """What ``source="auto"`` means for ``texts``: the language of their first few thousand characters
    together; :class:`DetectionError` when it cannot be told."""
    return detect_language(detection_sample(texts))


def detection_sample(texts: Sequence[str], limit: int = 4000) -> str:
    """The first ``limit`` characters of ``texts``: enough to tell a language, cheap for a long document."""
    sample: list[str] = []
    size = 0
    for text in texts:
        if size >= limit:
            break
        sample.append(text[: limit - size])
        size += len(sample[-1])
    return "\n".join(sample)
