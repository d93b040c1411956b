"""A call's units through the guards: each decoded, checked, and split finer or prompted again as soon as its
jobs finish (see :mod:`tg_edge.guards.runner`), retries joining the batches still running."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from . import guards
from .cancel import Cancellation, check
from .errors import Cancelled
from .guards import SegmentResult

if TYPE_CHECKING:
    from .generation import Generation
    from .languages import Language
    from .options import TranslationOptions
    from .runtime import Runtime
    from .slots import Job

SubmitUnits = Callable[..., list["Job"]]
"""Hands units to the scheduler (see :meth:`tg_edge.runtime.Runtime.submit_units`)."""


def translate_units(
    runtime: Runtime,
    submit_units: SubmitUnits,
    units: Sequence[str],
    source: Language,
    target: Language,
    options: TranslationOptions,
    cancel: Cancellation | None = None,
    on_unit: Callable[[], None] | None = None,
) -> list[SegmentResult]:
    """Translate units of text (each within the segment budget) together, results in order.

    Each unit's output is checked as soon as it is decoded; one that looks cut, looped, empty, of the
    wrong length or in the wrong language is split finer or prompted again right away (see
    :func:`tg_edge.guards.retry_steps`), its retries decoded in the same batches as the other units. The
    better output is kept and marked."""
    check(cancel)
    terms = options.terms(source, target)
    policy = guards.Policy(
        source.code,
        target.code,
        check_language=options.check_language,
        terms=terms,
        retry_prompt=runtime.prompts.alternates,
    )

    def submit(requests: Sequence[guards.Request], on_done: Sequence[guards.OnDone[Generation]]) -> list[Job]:
        return submit_units(
            [request.text for request in requests],
            source,
            target,
            options,
            again=[request.retry_prompt for request in requests],
            place_terms=[request.place_terms for request in requests],
            on_done=on_done,
            abandon_copies=options.check_language,
            terms=terms,
        )

    runs = guards.start_units(
        [guards.translate_then_retry(unit, policy) for unit in units], submit, SegmentResult.from_generation
    )
    try:
        with cancel.watch(runs) if cancel is not None else nullcontext():
            results = []
            for run in runs:
                results.append(run.result())  # re-raises what ended a unit
                if on_unit is not None:
                    on_unit()
        check(cancel)  # a cancelled job comes back cut short: not a translation
        kept = [result for result in results if result is not None]
        if len(kept) < len(results):
            raise Cancelled("cancelled")
        runtime.count_retries(sum(result.attempts - 1 for result in kept))
        return kept
    finally:
        for run in runs:
            run.cancel()  # after an error or Ctrl-C, do not leave work queued


def texts_done(units: list[int], progress: Callable[[int], None] | None) -> Callable[[], None] | None:
    """A callback for each unit finished (in order) that tells ``progress`` how many more texts are complete
    (``units``: each text's unit count); texts without units count as soon as those before them are done."""
    if progress is None:
        return None
    ends = list(itertools.accumulate(units))
    state = {"units": 0, "texts": bisect.bisect_right(ends, 0)}
    if state["texts"]:
        progress(state["texts"])

    def unit_done() -> None:
        state["units"] += 1
        texts = bisect.bisect_right(ends, state["units"])
        if texts > state["texts"]:
            progress(texts - state["texts"])
            state["texts"] = texts

    return unit_done
