"""Steering greedy decoding toward required terms: a light constraint a job applies to its own token choices.

Placing a target term into the source (see :meth:`tg_edge.glossary.Glossary.place`) makes a model likely to
copy it; where it hesitates — the term's first token is a close second to the greedy choice — a
:class:`TermSteer` takes the term and writes it out whole, token by token. A term already written is not
steered again, and nothing is steered where the model plainly wants another word, so a translation is never
bent far from what the model would write (no term is ever added at the end of a sentence).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

MARGIN = 4.0
"""How far (in logits) a target term's first token may trail the greedy choice and still be taken."""
KEEP_MARGIN = 4.0
"""The same for a kept term. Measured (benchmarks/terminology.py): 8 logits kept 94–100% of names verbatim
against 75–78% at 4, but forced them into the wrong places ("Hospital Hamilton confirmé") and cost 3–6 chrF++."""

Steer = Callable[[np.ndarray, int, str], int]
"""Given a job's next-token logits, its greedy token and its text so far, the token to take instead."""


class TermSteer:
    """Steers one job toward ``terms``: each with the token sequences that spell it (with and without a
    leading space, capitalized or not) and how far its first token may trail the greedy one."""

    def __init__(self, terms: Sequence[tuple[str, Sequence[Sequence[int]], float]]) -> None:
        self._terms = [
            (text.casefold(), [list(v) for v in variants if v], margin) for text, variants, margin in terms
        ]
        self._forcing: list[int] = []

    def __call__(self, logits: np.ndarray, greedy: int, text: str) -> int:
        if self._forcing:
            return self._forcing.pop(0)
        written = text.casefold()
        best_gap, best = None, None
        for term, variants, margin in self._terms:
            if term in written:
                continue
            for variant in variants:
                gap = float(logits[greedy] - logits[variant[0]])
                if gap <= margin and (best_gap is None or gap < best_gap):
                    best_gap, best = gap, variant
        if best is None:
            return greedy
        self._forcing = list(best[1:])
        return best[0]


def term_steer(
    required: Sequence[tuple[str, bool]], tokenize: Callable[[str], list[int]]
) -> TermSteer | None:
    """A steer for ``required``: (term, kept verbatim) pairs, spelled with ``tokenize`` (``None`` when there
    are none). A target term may also start with a capital letter; a kept term only as it is."""
    if not required:
        return None
    spelled = []
    for term, keep in dict.fromkeys(required):
        forms = {term} if keep else {term, term[:1].upper() + term[1:]}
        variants = [tokenize(prefix + form) for form in sorted(forms) for prefix in ("", " ")]
        spelled.append((term, variants, KEEP_MARGIN if keep else MARGIN))
    return TermSteer(spelled)
