"""What a check finds wrong with an output: one :class:`Problem`, with its message and its rank."""

from __future__ import annotations

from enum import Enum


class Problem(str, Enum):
    """What a check found wrong with an output (a ``str``: compares and serialises as its value).

    The order is the severity, least first: of two outputs of one unit, the one whose problem comes first is
    kept (see :func:`severity`).
    """

    TERMINOLOGY = "terminology"
    """A required target term is missing, or a term to keep was changed (the least of the problems)."""
    RATIO = "ratio"
    WRONG_LANGUAGE = "wrong-language"
    """A sentence of the output is in another language than the target, or it copies the source."""
    LOOP = "loop"
    LENGTH = "length"
    KEPT = "kept"
    """Every attempt came back empty, so the output is the source text itself."""
    EMPTY = "empty"

    @property
    def message(self) -> str:
        """How a report says it: "<segment> came back empty"."""
        return _MESSAGES[self]

    def __str__(self) -> str:
        return self.value


_MESSAGES = {
    Problem.TERMINOLOGY: "lacks a required glossary term or changed a term to keep",
    Problem.LENGTH: "hit the token limit (the translation may be cut)",
    Problem.LOOP: "stopped by the repetition guard (the model was looping)",
    Problem.EMPTY: "came back empty",
    Problem.RATIO: "has a length far outside the usual for this language pair (a part may be missing or repeated)",
    Problem.WRONG_LANGUAGE: "is not in the target language",
    Problem.KEPT: "came back empty; the source text was kept",
}
# A wrong-language output ranks with a far-off length: between a copy of the source and a translation with a
# part missing neither is plainly better, so the length nearer the usual decides (see policy._better).
_SEVERITY: dict[Problem | None, int] = {
    None: 0,
    **{problem: rank for rank, problem in enumerate(Problem, start=1)},
}
_SEVERITY[Problem.WRONG_LANGUAGE] = _SEVERITY[Problem.RATIO]


def severity(problem: Problem | None) -> int:
    """How bad ``problem`` is, to compare two outputs of one unit (0: none, higher: worse)."""
    return _SEVERITY[problem]
