"""Guards on every segment's output, and the split-and-retry that tries to mend a bad one.

A segment's output is suspect when decoding stopped at the token limit (``length``) or on a
loop (``loop``), when it came back empty or without a single word of the source's (``empty``),
when a sentence of it is not in the target language or it copies the source (``wrong-language``),
or when its length is far outside what the language pair usually gives (``ratio``: a part is
probably missing or repeated), or when it lacks a term its glossary requires or changes a term to keep
(``terminology``: see :mod:`tg_edge.glossary`). A suspect unit is cut finer (sentences, then clauses, then words)
and its pieces are translated again, all suspect units of a call together in one batch per
level; the better of the two outputs is kept, and one still suspect carries its finding so the
caller can report it. Output not in the target language (``wrong-language``: see
:mod:`tg_edge.languages.check`) that stays so when cut finer is prompted again with the profile's retry
prompt, since the same prompt would give the same copy back.

Nothing is ever written shorter than the user gave: a unit (or piece) whose every attempt came
back empty keeps its source text, marked ``kept``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from .languages import Language, language_code, length_factor
from .languages.check import in_wrong_language, wrong_sentences
from .segment import Piece, join_pieces, split_finer

if TYPE_CHECKING:
    from .glossary import Glossary

# Per sentence, a human translation's length over the expected one stays within about
# [0.5, 2.4] on FLORES-200 (0.5th–99.5th percentile over the pairs with English above);
# outside [0.4, 2.6] a part is most likely missing or repeated.
RATIO_LOW = 0.4
RATIO_HIGH = 2.6
# Below this many characters of source, ratios say little ("OK" → "In Ordnung").
MIN_RATIO_CHARS = 24
MAX_DEPTH = 3
ABANDONED = "abandoned"
"""The stop of an output abandoned half-way as a copy of its source (tg_edge.scheduler.Stop.ABANDONED)."""


class Problem(str, Enum):
    """What a guard found wrong with an output (a ``str``: compares and serialises as its value)."""

    TERMINOLOGY = "terminology"
    """A required target term is missing, or a term to keep was changed (the least of the findings)."""
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
# Which finding is worse when two outputs of one unit must be compared: the enum's order, worst last.
# A wrong-language output ranks with a far-off length: between a copy of the source and a translation
# with a part missing neither is plainly better, so the length nearer the usual decides (see _better).
_SEVERITY: dict[Problem | None, int] = {
    None: 0,
    **{problem: rank for rank, problem in enumerate(Problem, start=1)},
}
_SEVERITY[Problem.WRONG_LANGUAGE] = _SEVERITY[Problem.RATIO]
_WORD = re.compile(r"\w")
# Findings a retry prompt may mend where the same prompt would give the same output back.
_PROMPTED_AGAIN = (Problem.WRONG_LANGUAGE, Problem.TERMINOLOGY)


class Result(Protocol):
    """What the guards read and replace of a segment's result (tg_edge.translator.SegmentResult): a frozen
    dataclass, whose fields they change with :func:`dataclasses.replace`."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def source(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def stop(self) -> str: ...
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def new_tokens(self) -> int: ...
    @property
    def reused_tokens(self) -> int: ...
    @property
    def seconds(self) -> float: ...
    @property
    def guard(self) -> Problem | None: ...
    @property
    def attempts(self) -> int: ...


ResultT = TypeVar("ResultT", bound=Result)


def length_ratio(source_text: str, output: str, source: Language | str, target: Language | str) -> float:
    """How long ``output`` is relative to what the pair usually gives for ``source_text`` (1.0 = usual)."""
    src = len(source_text.strip())
    if src == 0:
        return 1.0
    expected = src * length_factor(target) / length_factor(source)
    return len(output.strip()) / expected


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
    """The guard's finding for one segment's output, or ``None`` when it looks whole (``language=False``:
    whatever language it is in; ``terms``: the glossary its terms must follow)."""
    if is_empty(source_text, output):
        return Problem.EMPTY
    if stop in (Problem.LENGTH, Problem.LOOP):
        return Problem(stop)
    if stop == ABANDONED:  # the translator abandons only an output that began as a copy of its source
        return Problem.WRONG_LANGUAGE
    if language and in_wrong_language(
        source_text, output, source=language_code(source), target=language_code(target)
    ):
        return Problem.WRONG_LANGUAGE
    if len(source_text.strip()) >= MIN_RATIO_CHARS:
        ratio = length_ratio(source_text, output, source, target)
        if not RATIO_LOW <= ratio <= RATIO_HIGH:
            return Problem.RATIO
    if terms and terms.unmet(source_text, output, source=source):
        return Problem.TERMINOLOGY
    return None


def check_image(output: str, stop: str, *, target: Language | str, language: bool = True) -> Problem | None:
    """The guard's finding for the translation of an image's text (no source text to compare with): empty,
    cut, looping, or sentences not in ``target``."""
    if _WORD.search(output) is None:
        return Problem.EMPTY
    if stop in (Problem.LENGTH, Problem.LOOP):
        return Problem(stop)
    if language and wrong_sentences(output, target=language_code(target)):
        return Problem.WRONG_LANGUAGE
    return None


def is_empty(source_text: str, output: str) -> bool:
    """Whether ``output`` gives less than no translation: nothing for a non-empty source, or not one
    word (letter or digit) where the source has some."""
    if not source_text.strip():
        return False
    return not output.strip() or (_WORD.search(source_text) is not None and _WORD.search(output) is None)


def whole_copy(unit: str, result: ResultT) -> ResultT:
    """``result``, or when it was abandoned as a copy of the source under way, the copy it was writing: the
    unit's own text (a result is never a cut text)."""
    return replace(result, text=unit.strip()) if result.stop == ABANDONED else result


def keep_source(unit: str, result: ResultT) -> ResultT:
    """``result``, or when its output is empty (see :func:`is_empty`) the unit's own text, marked ``kept``."""
    if not is_empty(unit, result.text):
        return result
    return replace(result, text=unit.strip(), guard=Problem.KEPT)


Request = tuple[str, bool]
"""A text to translate, and whether with the profile's retry prompt."""
Mending = Generator[list[Request], list[ResultT], ResultT]
"""One unit's retries: yields the requests of its next try, is sent their results, returns the kept result."""


def retry(
    units: Sequence[str],
    results: Sequence[ResultT],
    translate_units: Callable[..., Sequence[ResultT]],
    *,
    source: Language | str,
    target: Language | str,
    alternate: bool = False,
    language: bool = True,
    terms: Glossary | None = None,
) -> list[ResultT]:
    """Check each unit's result; split the suspect ones finer and translate the pieces again.

    ``translate_units`` is called once per level with the pieces of every suspect unit, so a
    batching engine decodes them together (:func:`mend` says what each unit asks for). With
    ``alternate`` it gets a flag per text when some of them need the retry prompt:
    ``translate_units(texts, again)``.
    """
    return drive(
        mend_all(
            units, results, source=source, target=target, alternate=alternate, language=language, terms=terms
        ),
        translate_units,
    )


def drive(
    mending: Generator[list[Request], list[ResultT], list[ResultT]],
    translate_units: Callable[..., Sequence[ResultT]],
) -> list[ResultT]:
    """Run ``mending`` to its end, one ``translate_units`` call per round of requests."""
    try:
        requests = next(mending)
        while True:
            texts, again = [text for text, _ in requests], [flag for _, flag in requests]
            fresh = translate_units(texts, again) if any(again) else translate_units(texts)
            requests = mending.send(list(fresh))
    except StopIteration as done:
        results: list[ResultT] = done.value
        return results


def translate_and_mend(
    unit: str,
    *,
    source: Language | str,
    target: Language | str,
    alternate: bool = False,
    language: bool = True,
    terms: Glossary | None = None,
) -> Mending[ResultT]:
    """A unit's whole course: its first translation, then :func:`mend`."""
    (first,) = yield [(unit, False)]
    return (
        yield from mend(
            unit, first, source=source, target=target, alternate=alternate, language=language, terms=terms
        )
    )


def mend(
    unit: str,
    first: ResultT,
    *,
    source: Language | str,
    target: Language | str,
    depth: int = 0,
    alternate: bool = False,
    language: bool = True,
    terms: Glossary | None = None,
) -> Mending[ResultT]:
    """Check ``first`` (the unit's output); when suspect, ask for the unit cut finer, or for the retry prompt.

    The result is the better of the first output and the mended one; one still suspect has ``guard`` set to
    its finding and ``attempts`` counting the tries. One whose every try came back empty keeps its unit's text
    (``guard="kept"``): the caller never writes less than it was given.

    Output in the wrong language (most often a copy of the source) is split finer too: the demo model
    translates the clauses of a sentence it copied whole (25 of 33 such FLORES sentences into German).
    With ``alternate``, a piece still in the wrong language, or a unit that cannot be split, is translated
    again whole with the profile's retry prompt (the same prompt would give the same copy back).
    """
    first = whole_copy(unit, first)
    finding = check(
        unit, first.text, first.stop, source=source, target=target, language=language, terms=terms
    )
    if finding is None:
        return first
    first = replace(
        first, guard=finding, text=trim_repetition(first.text) if finding == "loop" else first.text
    )
    pieces = split_finer(unit, source) if depth < MAX_DEPTH else []
    splits = sum(p.translate for p in pieces) > 1
    if finding in _PROMPTED_AGAIN and alternate and (depth > 0 or not splits):
        (again,) = yield [(unit, True)]
        mended = _checked(unit, again, source=source, target=target, language=language, terms=terms)
        attempts = max(first.attempts + 1, mended.attempts)
    elif splits:
        subs = [p.text for p in pieces if p.translate]
        fresh = yield [(text, False) for text in subs]
        mine = yield from mend_all(
            subs,
            fresh,
            source=source,
            target=target,
            depth=depth + 1,
            alternate=alternate,
            language=language,
            terms=terms,
        )
        mended = _combine(unit, pieces, mine, source=source, target=target, language=language, terms=terms)
        attempts = max(first.attempts, mended.attempts)
    else:
        return keep_source(unit, first)
    best = mended if _better(mended, first, unit, source, target) else first
    return keep_source(unit, replace(best, attempts=attempts))


def mend_all(
    units: Sequence[str],
    results: Sequence[ResultT],
    **how: Any,  # mend's keyword arguments
) -> Generator[list[Request], list[ResultT], list[ResultT]]:
    """:func:`mend` for several units in lock step: each round's requests of all of them together."""
    courses = [mend(unit, result, **how) for unit, result in zip(units, results, strict=True)]
    out: list[ResultT | None] = [None] * len(courses)
    asking: dict[int, list[Request]] = {}
    for i, course in enumerate(courses):
        try:
            asking[i] = next(course)
        except StopIteration as done:
            out[i] = done.value
    while asking:
        replies = iter((yield [request for i in asking for request in asking[i]]))
        going = {}
        for i, requests in asking.items():
            try:
                going[i] = courses[i].send([next(replies) for _ in requests])
            except StopIteration as done:
                out[i] = done.value
        asking = going
    return out  # type: ignore[return-value]  # no None left: every course has returned once none asks


def _checked(
    unit: str,
    result: ResultT,
    *,
    source: Language | str,
    target: Language | str,
    language: bool,
    terms: Glossary | None,
) -> ResultT:
    """``result`` (a unit translated again whole) with the guard's finding on it."""
    result = whole_copy(unit, result)
    finding = check(
        unit, result.text, result.stop, source=source, target=target, language=language, terms=terms
    )
    text = trim_repetition(result.text) if finding == "loop" else result.text
    return replace(result, text=text, guard=finding, attempts=result.attempts + 1)


def trim_repetition(text: str, *, min_repeats: int = 3) -> str:
    """``text`` with a repeated tail (a decoding loop: ``a / b / b / b / b``) cut down to one copy of the pattern."""
    n = len(text)
    for period in range(1, n // min_repeats + 1):
        unit = text[n - period :]
        copies = 1
        while text.endswith(unit * (copies + 1)):
            copies += 1
        if copies >= min_repeats:
            return text[: n - period * (copies - 1)].rstrip()
    return text


def _combine(
    unit: str,
    pieces: list[Piece],
    results: list[ResultT],
    *,
    source: Language | str,
    target: Language | str,
    language: bool = True,
    terms: Glossary | None = None,
) -> ResultT:
    """One result for ``unit`` from the results of its pieces, with the whitespace between them kept."""
    text = join_pieces(pieces, (r.text for r in results)).strip()
    stops = [r.stop for r in results if r.stop in (Problem.LENGTH, Problem.LOOP)]
    stop = max(stops, key=lambda s: _SEVERITY[Problem(s)]) if stops else results[-1].stop
    # The worst finding counts: a piece that kept its source explains why the whole is partly untranslated.
    finding = max(
        (
            check(unit, text, stop, source=source, target=target, language=language, terms=terms),
            *(r.guard for r in results),
        ),
        key=_SEVERITY.__getitem__,
    )
    return replace(
        results[0],
        source=unit,
        text=text,
        stop=stop,
        prompt_tokens=sum(r.prompt_tokens for r in results),
        new_tokens=sum(r.new_tokens for r in results),
        reused_tokens=sum(r.reused_tokens for r in results),
        seconds=sum(r.seconds for r in results),
        guard=finding,
        attempts=1 + max(r.attempts for r in results),
    )


def _better(mended: Result, first: Result, unit: str, source: Language | str, target: Language | str) -> bool:
    """Whether the mended output should replace the first one: a lesser finding, or a length nearer the usual."""
    severity = _SEVERITY[mended.guard], _SEVERITY[first.guard]
    if severity[0] != severity[1]:
        return severity[0] < severity[1]
    return _distance(unit, mended.text, source, target) < _distance(unit, first.text, source, target)


def _distance(unit: str, text: str, source: Language | str, target: Language | str) -> float:
    return abs(math.log(max(length_ratio(unit, text, source, target), 1e-6)))
