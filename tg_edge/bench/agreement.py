"""Where tg-edge's document output and the naive loop's part ways: the margin of the model's choice there."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..engine import Engine

Progress = Callable[[str], None]

# Top-2 logit gaps below this are near-ties: other kernels or summation orders (batched vs alone) may flip them.
NEAR_TIE = 1.0


def divergence_gaps(
    model_path: Path,
    prompts: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    *,
    threads: int,
    gpu_layers: int,
    n_ctx: int,
    progress: Progress,
) -> dict[str, object]:
    """For each prompt whose two outputs differ, the gap between the two most likely next tokens (in
    logits) where the outputs first part, computed alone with teacher forcing.

    A gap under :data:`NEAR_TIE` means the model was nearly undecided there, so arithmetic order alone
    can explain the difference; a larger gap would point to a real bug (a wrong prompt or cache).
    """
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    gaps = []
    with Engine(model_path, n_ctx=n_ctx, threads=threads, gpu_layers=gpu_layers) as engine:
        bos = engine.token_text(engine.bos_token)
        for done, i in enumerate(differing, 1):
            progress(f"difference {done}/{len(differing)}")
            add_bos = engine.adds_bos and not prompts[i].startswith(bos)
            # The few-shot and chat prompts end where the model writes its answer after one space or newline.
            a = engine.tokenize(f"{prompts[i]} {ours[i]}", add_bos=add_bos)
            b = engine.tokenize(f"{prompts[i]} {theirs[i]}", add_bos=add_bos)
            split = next(k for k, (x, y) in enumerate(zip([*a, -1], [*b, -2])) if x != y)
            top = np.sort(engine.logits(a[:split])[-1])[-2:]
            gaps.append({"index": i, "token": split, "gap": round(float(top[1] - top[0]), 3)})
    return {"differences": gaps, "near_tie": NEAR_TIE}
