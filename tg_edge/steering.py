"""Steering greedy decoding toward required terms: a light constraint a job applies to its own token choices.

Placing a target term into the source (see :meth:`tg_edge.glossary.Glossary.place`) makes a model likely to
copy it; where it hesitates — the term's first token is a close second to the greedy choice — a
:class:`TermSteer` takes the term and writes it out whole, token by token. A term already written is not
steered again, and nothing is steered where the model plainly wants another word.

A term the model never came close to writing gets one more chance when the output ends: the steer remembers
the step where the term's first token came closest to the greedy choice, and asks the scheduler to take back
the tokens from that step on and write the term there instead (:meth:`TermSteer.redo`); decoding then goes
on from the term. The term lands where the model itself rated it best, not appended at the end, and only
the tail after that step is decoded again, within the same job.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

import numpy as np

MARGIN = 3.0
"""How far (in logits) a target term's first token may trail the greedy choice and still be taken while
decoding; a term not taken is left to the redo. Measured (benchmarks/terminology.py, 200 sentences per pair):
at 4 a term forced from that far back pulled the sentence off course (en→fr chrF++ −2.1 against −1.1 at 3);
at 2 the terms met and the chrF++ were within the noise of 3's, and more terms waited for the redo (en→fr
1.23–1.31× the time without a glossary, against 1.09–1.21× at 3)."""
KEEP_MARGIN = 4.0
"""The same for a kept term. Measured (benchmarks/terminology.py): 8 logits kept 94–100% of names verbatim
against 75–78% at 4, but forced them into the wrong places ("Hospital Hamilton confirmé") and cost 3–6 chrF++."""
REDO = True
"""Whether a term still missing when the output ends is written where it came closest (:meth:`TermSteer.redo`);
benchmarks/terminology.py turns it off to measure steering alone side by side."""


class Steer(Protocol):
    """A job's own choice of tokens, consulted by the scheduler at every step of its greedy decoding."""

    def __call__(self, logits: np.ndarray, greedy: int, text: str) -> int:
        """Given the next-token logits, the greedy token and the text so far, the token to take instead."""

    def redo(self, text: str) -> tuple[int, int] | None:
        """When the output is about to end with ``text``: ``(keep, token)`` to take back every token after the
        first ``keep`` and write ``token`` next instead, or ``None`` to let it end."""


class TermSteer:
    """Steers one job toward ``terms``: each with the token sequences that spell it (with and without a
    leading space, capitalized or not) and how far its first token may trail the greedy one."""

    def __init__(
        self,
        terms: Sequence[tuple[str, Sequence[Sequence[int]], float]],
        *,
        redo: bool = True,
        glued: Collection[Sequence[int]] = (),
    ) -> None:
        self._terms = [
            (text.casefold(), [list(v) for v in variants if v], margin) for text, variants, margin in terms
        ]
        # Spellings without a leading space: taken only where a word may begin (after a space, an
        # apostrophe, a bracket), never glued to the end of a word ("Patagglomération").
        self._glued = {tuple(v) for v in glued}
        self._forcing: list[int] = []
        self._step = 0  # the index in the output of the token being chosen
        # Per term (by index): the smallest gap seen to the greedy choice, at which step, with which spelling.
        self._closest: dict[int, tuple[float, int, list[int]]] = {}
        # Per term redone: the step it was written at. A redo at an earlier step takes it back, and it may be
        # redone again, within a budget that keeps two terms from taking each other back forever.
        self._redone: dict[int, int] = {}
        self._redos_left = 2 * len(self._terms) if redo else 0

    def __call__(self, logits: np.ndarray, greedy: int, text: str) -> int:
        step = self._step
        self._step += 1
        if self._forcing:
            return self._forcing.pop(0)
        written = text.casefold()
        in_word = text[-1:].isalnum()
        best_gap, best = None, None
        for index, (term, variants, margin) in enumerate(self._terms):
            if term in written:
                continue
            for variant in variants:
                if in_word and tuple(variant) in self._glued:
                    continue
                gap = float(logits[greedy] - logits[variant[0]])
                if gap < self._closest.get(index, (np.inf,))[0]:
                    self._closest[index] = (gap, step, variant)
                if gap <= margin and (best_gap is None or gap < best_gap):
                    best_gap, best = gap, variant
        if best is None:
            return greedy
        self._forcing = list(best[1:])
        return best[0]

    def redo(self, text: str) -> tuple[int, int] | None:
        """Once per term still missing from ``text``: write it at the step where it came closest (the latest
        such step first, so the other terms' closest steps, earlier, stay valid). A term redone after that step
        is taken back with the tail, so it may be redone again."""
        written = text.casefold()
        missing = [
            (step, index, variant)
            for index, (_, step, variant) in self._closest.items()
            if index not in self._redone and self._terms[index][0] not in written
        ]
        if not missing or self._redos_left <= 0:
            return None
        step, index, variant = max(missing, key=lambda m: m[0])
        self._redos_left -= 1
        self._redone = {i: at for i, at in self._redone.items() if at < step}
        self._redone[index] = step
        self._closest = {i: c for i, c in self._closest.items() if c[1] < step}
        self._forcing = list(variant[1:])
        self._step = step + 1
        return step, variant[0]


def term_steer(
    required: Sequence[tuple[str, bool]], tokenize: Callable[[str], list[int]], *, spaced: bool = True
) -> TermSteer | None:
    """A steer for ``required``: (term, kept verbatim) pairs, spelled with ``tokenize`` (``None`` when there
    are none). A target term may also start with a capital letter; a kept term only as it is. In a language
    that puts spaces between words (``spaced``), a term is never written glued to the end of a word."""
    if not required:
        return None
    spelled, glued = [], []
    for term, keep in dict.fromkeys(required):
        forms = {term} if keep else {term, term[:1].upper() + term[1:]}
        variants = {(prefix, form): tokenize(prefix + form) for form in sorted(forms) for prefix in ("", " ")}
        spelled.append((term, list(variants.values()), KEEP_MARGIN if keep else MARGIN))
        glued += [tokens for (prefix, _), tokens in variants.items() if spaced and not prefix]
    return TermSteer(spelled, redo=REDO, glued=glued)
