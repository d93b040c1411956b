"""The options of a translation call: decoding and segmentation settings, checked once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import GlossaryError
from .glossary import Glossary
from .languages import Language, language_code


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
