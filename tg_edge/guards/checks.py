"""The checks on an output: each is one function from an :class:`Output` to a :class:`Problem` or ``None``.

A new check is one function added to :data:`TEXT_CHECKS` (or :data:`IMAGE_CHECKS`); the first problem found,
in that order, is the output's. The language check asks :mod:`tg_edge.languages.check`, the terminology check the
glossary's own :meth:`~tg_edge.glossary.Glossary.unmet`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..generation import Stop
from ..languages import Language, language_code, length_factor
from ..languages.check import in_wrong_language, wrong_sentences
from .problems import Problem

if TYPE_CHECKING:
    from ..glossary import Glossary

# Per sentence, a human translation's length over the expected one stays within about
# [0.5, 2.4] on FLORES-200 (0.5th–99.5th percentile over the pairs with English above);
# outside [0.4, 2.6] a part is most likely missing or repeated.
RATIO_LOW = 0.4
RATIO_HIGH = 2.6
# Below this many characters of source, ratios say little ("OK" → "In Ordnung").
MIN_RATIO_CHARS = 24
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Output:
    """An output to check, and what it is checked against."""

    source_text: str
    """The unit it translates (empty for an image's text)."""
    text: str
    stop: str
    source: Language | str
    target: Language | str
    language: bool = True
    """Whether to check the output's language (off for text meant to stay mixed)."""
    terms: Glossary | None = None
    """The glossary whose terms the output must follow."""


Check = Callable[[Output], "Problem | None"]


def length_ratio(source_text: str, output: str, source: Language | str, target: Language | str) -> float:
    """How long ``output`` is relative to what the pair usually gives for ``source_text`` (1.0 = usual)."""
    src = len(source_text.strip())
    if src == 0:
        return 1.0
    expected = src * length_factor(target) / length_factor(source)
    return len(output.strip()) / expected


def is_empty(source_text: str, output: str) -> bool:
    """Whether ``output`` gives less than no translation: nothing for a non-empty source, or not one
    word (letter or digit) where the source has some."""
    if not source_text.strip():
        return False
    return not output.strip() or (_WORD.search(source_text) is not None and _WORD.search(output) is None)


def _empty(output: Output) -> Problem | None:
    return Problem.EMPTY if is_empty(output.source_text, output.text) else None


def _stopped(output: Output) -> Problem | None:
    """Decoding stopped at the token limit or on a loop."""
    return Problem(output.stop) if output.stop in (Stop.LENGTH, Stop.LOOP) else None


def _abandoned(output: Output) -> Problem | None:
    """The translator abandons only an output that began as a copy of its source."""
    return Problem.WRONG_LANGUAGE if output.stop == Stop.ABANDONED else None


def _language(output: Output) -> Problem | None:
    """A sentence of the output is not in the target language, or it copies the source."""
    wrong = output.language and in_wrong_language(
        output.source_text,
        output.text,
        source=language_code(output.source),
        target=language_code(output.target),
    )
    return Problem.WRONG_LANGUAGE if wrong else None


def _ratio(output: Output) -> Problem | None:
    """The length is far outside what the pair usually gives: a part is probably missing or repeated."""
    if len(output.source_text.strip()) < MIN_RATIO_CHARS:
        return None
    ratio = length_ratio(output.source_text, output.text, output.source, output.target)
    return None if RATIO_LOW <= ratio <= RATIO_HIGH else Problem.RATIO


def _terminology(output: Output) -> Problem | None:
    """A term the glossary requires is missing, or a term to keep was changed."""
    unmet = output.terms and output.terms.unmet(
        output.source_text, output.text, source=output.source, target=output.target
    )
    return Problem.TERMINOLOGY if unmet else None


def _no_word(output: Output) -> Problem | None:
    """An image's text (no source to compare with) came back without a single word."""
    return Problem.EMPTY if _WORD.search(output.text) is None else None


def _image_language(output: Output) -> Problem | None:
    wrong = output.language and wrong_sentences(output.text, target=language_code(output.target))
    return Problem.WRONG_LANGUAGE if wrong else None


TEXT_CHECKS: tuple[Check, ...] = (_empty, _stopped, _abandoned, _language, _ratio, _terminology)
"""The checks on a unit's translation, in the order they are asked."""
IMAGE_CHECKS: tuple[Check, ...] = (_no_word, _stopped, _image_language)
"""The checks on the translation of an image's text."""


def first_problem(output: Output, checks: tuple[Check, ...] = TEXT_CHECKS) -> Problem | None:
    """The first problem one of ``checks`` finds with ``output``, or ``None`` when it looks whole."""
    for one in checks:
        if (problem := one(output)) is not None:
            return problem
    return None


def check(
    source_text: str,
    output: str,
    stop: str,
    *,
    source: Language | str,
    target: Language | str,
    language: bool = True,
    terms: Glossary | None = None,
) -> Problem | None:
    """The problem with one segment's output, or ``None`` when it looks whole (``language=False``:
    whatever language it is in; ``terms``: the glossary its terms must follow)."""
    return first_problem(Output(source_text, output, stop, source, target, language, terms))


def check_image(output: str, stop: str, *, target: Language | str, language: bool = True) -> Problem | None:
    """The problem with the translation of an image's text (no source text to compare with): empty,
    cut, looping, or sentences not in ``target``."""
    return first_problem(
        Output("", output, stop, source=target, target=target, language=language), IMAGE_CHECKS
    )
