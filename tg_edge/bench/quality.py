"""Translation quality against FLORES references: chrF++ and BLEU through sacrebleu."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def score(hypotheses: Sequence[str], references: Sequence[str], target: str) -> dict[str, Any]:
    """Corpus chrF++ and BLEU with their sacrebleu signatures (BLEU tokenizes Chinese and Japanese by character)."""
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    tokenize = "zh" if target.startswith("zh") else "char" if target in ("ja", "ko") else "13a"
    chrf, bleu = CHRF(word_order=2), BLEU(tokenize=tokenize)
    hyps, refs = list(hypotheses), [list(references)]
    return {
        "chrf++": round(chrf.corpus_score(hyps, refs).score, 2),
        "bleu": round(bleu.corpus_score(hyps, refs).score, 2),
        "sentences": len(hyps),
        "signatures": {"chrf++": str(chrf.get_signature()), "bleu": str(bleu.get_signature())},
    }
