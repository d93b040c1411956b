"""What to retry and how: a suspect unit is cut finer, or prompted again, and the better output is kept.

A unit's retries are a generator of :data:`Steps`: it yields the :class:`Request` s of its next try, is sent
their results, and returns the result it keeps (:func:`translate_then_retry`, :func:`retry_steps`). It knows
nothing of the scheduler: :mod:`tg_edge.guards.runner` submits its requests.

A suspect unit is cut finer (sentences, then clauses, then words) and its pieces are translated again; the
better of the two outputs is kept, and one still suspect carries its problem so the caller can report it.
Output not in the target language that stays so when cut finer is prompted again with the profile's retry
prompt, since the same prompt would give the same copy back. Nothing is ever written shorter than the user gave:
a unit (or piece) whose every attempt came back empty keeps its source text, marked ``kept``.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from ..generation import Stop
from ..languages import Language
from ..segment import Piece, join_pieces, split_finer
from .checks import check, is_empty, length_ratio
from .problems import Problem, severity
from .result import SegmentResult

if TYPE_CHECKING:
    from ..glossary import Glossary

MAX_DEPTH = 3
"""How many times a unit is cut finer at the most (sentences, clauses, words)."""
# Problems a retry prompt may mend where the same prompt would give the same output back.
_PROMPTED_AGAIN = (Problem.WRONG_LANGUAGE, Problem.TERMINOLOGY)


class Request(NamedTuple):
    """A text to translate, whether with the profile's retry prompt, and whether with the glossary's target
    terms placed into it (see :meth:`tg_edge.glossary.Glossary.place`)."""

    text: str
    retry_prompt: bool = False
    place_terms: bool = True


Steps = Generator[list[Request], list[SegmentResult], SegmentResult]
"""One unit's tries: yields the requests of its next try, is sent their results, returns the kept result."""


@dataclass(frozen=True)
class Policy:
    """What a call's outputs are checked against, and how a suspect one is retried."""

    source: Language | str
    target: Language | str
    check_language: bool = True
    """Whether an output not in the target language is a problem (off for text meant to stay mixed)."""
    terms: Glossary | None = None
    """The glossary whose terms the outputs must follow."""
    retry_prompt: bool = False
    """Whether the prompt profile has a retry prompt, for outputs the same prompt would give back again."""

    def check(self, unit: str, result: SegmentResult) -> Problem | None:
        """The problem with ``result``, the translation of ``unit``, or ``None``."""
        return check(
            unit,
            result.text,
            result.stop,
            source=self.source,
            target=self.target,
            language=self.check_language,
            terms=self.terms,
        )


def translate_then_retry(unit: str, policy: Policy) -> Steps:
    """A unit's tries from the start: its first translation, then :func:`retry_steps`."""
    (first,) = yield [Request(unit)]
    return (yield from retry_steps(unit, first, policy))


def retry_steps(
    unit: str, first: SegmentResult, policy: Policy, depth: int = 0, *, place_terms: bool = True
) -> Steps:
    """Check ``first`` (the unit's output); when suspect, ask for the unit cut finer, or for the retry prompt.

    The result is the better of the first output and the retried one; one still suspect has ``problem`` set,
    and ``attempts`` counting the tries. One whose every try came back empty keeps its unit's text (``kept``):
    the caller never writes less than it was given.

    Output in the wrong language (most often a copy of the source) is split finer too: the demo model
    translates the clauses of a sentence it copied whole (25 of 33 such FLORES sentences into German).
    With :attr:`Policy.retry_prompt`, a piece still in the wrong language, or a unit that cannot be split, is
    translated again whole with the profile's retry prompt.

    A unit in the wrong language is retried without the glossary's target terms placed into it
    (``place_terms``): a source with foreign words in it is what a model most readily copies.
    """
    first = whole_copy(unit, first)
    problem = policy.check(unit, first)
    if problem is None:
        return first
    place_terms = place_terms and problem is not Problem.WRONG_LANGUAGE
    first = replace(first, problem=problem, text=_trimmed_if_looping(first.text, problem))
    pieces = split_finer(unit, policy.source) if depth < MAX_DEPTH else []
    splits = sum(p.translate for p in pieces) > 1
    if problem in _PROMPTED_AGAIN and policy.retry_prompt and (depth > 0 or not splits):
        (again,) = yield [Request(unit, retry_prompt=True, place_terms=place_terms)]
        retried = _checked_again(unit, again, policy)
        attempts = max(first.attempts + 1, retried.attempts)
    elif splits:
        texts = [p.text for p in pieces if p.translate]
        fresh = yield [Request(text, place_terms=place_terms) for text in texts]
        mine = yield from _retry_together(texts, fresh, policy, depth + 1, place_terms)
        retried = _combine(unit, pieces, mine, policy)
        attempts = max(first.attempts, retried.attempts)
    else:
        return keep_source(unit, first)
    best = retried if _better(retried, first, unit, policy) else first
    return keep_source(unit, replace(best, attempts=attempts))


def check_printed(unit: str, result: SegmentResult, policy: Policy, *, printed: bool) -> SegmentResult:
    """``result`` of a streamed unit with its problem: an output already printed is too late to retry, never
    too late to flag; when nothing was printed, the unit's own text stands in (see :func:`keep_source`)."""
    if not printed:
        return keep_source(unit, result)
    return replace(result, problem=policy.check(unit, result))


def whole_copy(unit: str, result: SegmentResult) -> SegmentResult:
    """``result``, or when it was abandoned as a copy of the source under way, the copy it was writing: the
    unit's own text (a result is never a cut text)."""
    return replace(result, text=unit.strip()) if result.stop == Stop.ABANDONED else result


def keep_source(unit: str, result: SegmentResult) -> SegmentResult:
    """``result``, or when its output is empty (see :func:`is_empty`) the unit's own text, marked ``kept``."""
    if not is_empty(unit, result.text):
        return result
    return replace(result, text=unit.strip(), problem=Problem.KEPT)


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


def _trimmed_if_looping(text: str, problem: Problem | None) -> str:
    return trim_repetition(text) if problem == Problem.LOOP else text


def _retry_together(
    units: Sequence[str], results: Sequence[SegmentResult], policy: Policy, depth: int, place_terms: bool
) -> Generator[list[Request], list[SegmentResult], list[SegmentResult]]:
    """:func:`retry_steps` for the pieces of one unit in lock step: each round's requests of all of them
    together."""
    tries = [
        retry_steps(unit, result, policy, depth, place_terms=place_terms)
        for unit, result in zip(units, results, strict=True)
    ]
    out: list[SegmentResult | None] = [None] * len(tries)
    asking: dict[int, list[Request]] = {}
    for i, steps in enumerate(tries):
        try:
            asking[i] = next(steps)
        except StopIteration as done:
            out[i] = done.value
    while asking:
        replies = iter((yield [request for i in asking for request in asking[i]]))
        going = {}
        for i, requests in asking.items():
            try:
                going[i] = tries[i].send([next(replies) for _ in requests])
            except StopIteration as done:
                out[i] = done.value
        asking = going
    return out  # type: ignore[return-value]  # no None left: every piece has returned once none asks


def _checked_again(unit: str, result: SegmentResult, policy: Policy) -> SegmentResult:
    """``result`` (a unit translated again whole) with its problem on it."""
    result = whole_copy(unit, result)
    problem = policy.check(unit, result)
    text = _trimmed_if_looping(result.text, problem)
    return replace(result, text=text, problem=problem, attempts=result.attempts + 1)


def _combine(unit: str, pieces: list[Piece], results: list[SegmentResult], policy: Policy) -> SegmentResult:
    """One result for ``unit`` from the results of its pieces, with the whitespace between them kept."""
    text = join_pieces(pieces, (r.text for r in results)).strip()
    stops = [r.stop for r in results if r.stop in (Stop.LENGTH, Stop.LOOP)]
    stop = max(stops, key=lambda s: severity(Problem(s))) if stops else results[-1].stop
    combined = replace(
        results[0],
        source=unit,
        text=text,
        stop=stop,
        prompt_tokens=sum(r.prompt_tokens for r in results),
        new_tokens=sum(r.new_tokens for r in results),
        reused_tokens=sum(r.reused_tokens for r in results),
        seconds=sum(r.seconds for r in results),
        attempts=1 + max(r.attempts for r in results),
    )
    # The worst problem counts: a piece that kept its source explains why the whole is partly untranslated.
    problem = max((policy.check(unit, combined), *(r.problem for r in results)), key=severity)
    return replace(combined, problem=problem)


def _better(retried: SegmentResult, first: SegmentResult, unit: str, policy: Policy) -> bool:
    """Whether the retried output should replace the first one: a lesser problem, or a length nearer the usual."""
    ranks = severity(retried.problem), severity(first.problem)
    if ranks[0] != ranks[1]:
        return ranks[0] < ranks[1]
    return _distance(unit, retried.text, policy) < _distance(unit, first.text, policy)


def _distance(unit: str, text: str, policy: Policy) -> float:
    return abs(math.log(max(length_ratio(unit, text, policy.source, policy.target), 1e-6)))
