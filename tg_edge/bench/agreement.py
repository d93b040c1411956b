"""Where tg-edge's document output and the naive loop's part ways: the margin of the model's choice there."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import BatchToken, Engine
from .spawn import Progress

# Top-2 logit gaps below this are near-ties: other kernels or summation orders (batched vs alone) may flip them.
NEAR_TIE = 1.0
_SLACK_TOKENS = 16  # decoded past the longer output, to see whether the model would have stopped there


def divergence_gaps(
    model_path: Path,
    prompts: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    *,
    retried: Sequence[bool],
    threads: int,
    gpu_layers: int,
    n_ctx: int,
    progress: Progress,
) -> dict[str, Any]:
    """For each prompt whose two outputs differ, decode it alone, greedily, and note where each output
    leaves that path and the gap between the two most likely tokens (in logits) at that step.

    A gap under :data:`NEAR_TIE` means the model was nearly undecided there, so arithmetic order alone
    (batched vs alone, another chunking of the prompt) can explain the difference; a larger gap would
    point to a real bug (a wrong prompt or cache). Outputs that tg-edge's guards had translated again
    (``retried``) are not single greedy decodes; they are listed without a gap.
    """
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    found: list[dict[str, Any]] = []
    with Engine(model_path, n_ctx=n_ctx, threads=threads, gpu_layers=gpu_layers) as engine:
        bos = engine.token_text(engine.bos_token)
        for done, i in enumerate(differing, 1):
            progress(f"difference {done}/{len(differing)}")
            if retried[i]:
                found.append({"index": i, "retried": True, "gap": None})
                continue
            add_bos = engine.adds_bos and not prompts[i].startswith(bos)
            departures = _departures(
                engine, engine.tokenize(prompts[i], add_bos=add_bos), {"tg_edge": ours[i], "naive": theirs[i]}
            )
            gaps = [gap for _, gap in departures.values() if gap is not None]
            found.append(
                {
                    "index": i,
                    "retried": False,
                    **{f"{k}_leaves_at": step for k, (step, _) in departures.items()},
                    **{
                        f"{k}_gap": None if gap is None else round(gap, 3)
                        for k, (_, gap) in departures.items()
                    },
                    "gap": round(max(gaps), 3) if gaps else None,
                }
            )
    return {"differences": found, "near_tie": NEAR_TIE}


def _departures(
    engine: Engine, prompt: list[int], outputs: dict[str, str]
) -> dict[str, tuple[int | None, float | None]]:
    """Per output: the step (token) where the alone greedy decode stops spelling it, and the top-2 gap
    there; ``(None, None)`` for an output the greedy decode reproduces up to its stop.

    Only texts are known, not the tokens the other decoder chose, and one word can be spelled by
    different tokens ("Studio" + "s" or "Studios"): the branch may lie at any step since the greedy
    decode last ended a token at a word boundary of the output, so the gap is the smallest in that stretch.
    """
    targets = {name: text.encode("utf-8") for name, text in outputs.items()}
    left: dict[str, tuple[int | None, float | None]] = {}
    word_start = dict.fromkeys(targets, 0)
    gaps: list[float] = []
    engine.reset()
    engine.evaluate(prompt)
    spelled = b""
    limit = max(len(engine.tokenize(text)) for text in outputs.values()) + _SLACK_TOKENS
    for step in range(limit):
        logits = engine.last_logits()
        token = int(logits.argmax())
        top = np.partition(logits, -2)[-2:]  # the two largest, in order
        gaps.append(float(top[1] - top[0]))
        piece = engine.token_bytes(token)
        ends = engine.is_end_of_generation(token) or b"\n" in piece
        spelled += piece.split(b"\n")[0]
        text = spelled.lstrip()
        for name, target in targets.items():
            if name in left:
                continue
            if ends and text.rstrip() == target:
                left[name] = (None, None)  # reproduced, stop included
            elif ends or not target.startswith(text):
                left[name] = (step, min(gaps[word_start[name] :]))
            elif not _inside_word(target, len(text)):
                word_start[name] = step + 1  # this token ended where a word of the output ends
        if len(left) == len(targets):
            break
        engine.decode([BatchToken(token, len(prompt) + step, (0,), True)])
    for name in targets:
        left.setdefault(name, (limit, None))  # still spelling it at the limit: no choice seen
    return left


def _inside_word(text: bytes, at: int) -> bool:
    """Whether byte ``at`` of UTF-8 ``text`` continues a word (a letter, digit or any non-ASCII byte)."""
    following = text[at : at + 1]
    return bool(following) and (following.isalnum() or following[0] >= 0x80)
