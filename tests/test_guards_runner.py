"""The guards' runner on a fake scheduler (no model): each unit's tries submitted as its jobs finish, the kept
result by the policy, cancelling, errors, and jobs that finish out of order."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

import pytest

from tg_edge.glossary import Glossary
from tg_edge.guards import (
    Policy,
    Problem,
    Request,
    SegmentResult,
    check_printed,
    start_units,
    translate_then_retry,
)

from .guard_fakes import FakeJob, FakeScheduler

SOURCE = "The committee said on Monday that the new bridge would open next spring."
GERMAN = "Der Ausschuss sagte am Montag, die neue Brücke werde im nächsten Frühjahr eröffnet."
SHORT = "Where is the old railway station?"  # one sentence, too short to cut finer
SHORT_GERMAN = "Wo ist der alte Bahnhof?"
HALVES = {  # SOURCE cut finer: it has no clause punctuation, so it is halved
    "The committee said on Monday that the": "Der Ausschuss sagte am Montag, dass die",
    "new bridge would open next spring.": "neue Brücke im nächsten Frühjahr eröffnet werde.",
}
RETRYING = Policy("en", "de", retry_prompt=True)


def _result(unit: str, text: str) -> SegmentResult:
    return SegmentResult(
        source=unit, text=text, stop="newline", prompt_tokens=3, new_tokens=3, reused_tokens=0, seconds=0.0
    )  # type: ignore[arg-type]


def _model(first: dict[str, str], again: dict[str, str]):
    """A translate function by table: ``first`` for the usual prompt, ``again`` for the retry prompt (a text
    in neither comes back as a copy of itself); it counts its calls."""
    calls: list[list[tuple[str, bool]]] = []

    def translate(texts: Sequence[str], retry_prompts: Sequence[bool] | None = None) -> list[SegmentResult]:
        flags = list(retry_prompts or [False] * len(texts))
        calls.append(list(zip(texts, flags, strict=True)))
        return [
            _result(t, (again if flag else first).get(t, t)) for t, flag in zip(texts, flags, strict=True)
        ]

    return translate, calls


def _start(scheduler: FakeScheduler, units: list[str], policy: Policy = RETRYING):
    return start_units([translate_then_retry(u, policy) for u in units], scheduler.submit, lambda _t, r: r)


def test_the_first_tries_of_all_units_go_in_one_submission() -> None:
    translate, _ = _model({SOURCE: GERMAN, SHORT: SHORT_GERMAN}, {})
    scheduler = FakeScheduler(translate)
    runs = _start(scheduler, [SOURCE, SHORT])
    scheduler.run()
    assert scheduler.submissions == [[Request(SOURCE), Request(SHORT)]]
    kept = [run.result() for run in runs]
    assert [(r.text, r.problem, r.attempts) for r in kept if r] == [
        (GERMAN, None, 1),
        (SHORT_GERMAN, None, 1),
    ]


def test_a_retry_that_passes_is_accepted() -> None:
    translate, calls = _model(
        {}, {SHORT: SHORT_GERMAN}
    )  # the usual prompt copies, the retry prompt translates
    scheduler = FakeScheduler(translate)
    (run,) = _start(scheduler, [SHORT])
    scheduler.run()
    assert scheduler.submissions == [[Request(SHORT)], [Request(SHORT, retry_prompt=True, place_terms=False)]]
    kept = run.result()
    assert kept is not None and (kept.text, kept.problem, kept.attempts) == (SHORT_GERMAN, None, 2)
    assert len(calls) == 2


def test_retries_exhausted_keep_the_first_output_when_it_is_the_better() -> None:
    """The copy (wrong language) beats a retry that came back empty: the first output stays, flagged."""
    translate, _ = _model({}, {SHORT: ""})
    scheduler = FakeScheduler(translate)
    (run,) = _start(scheduler, [SHORT])
    scheduler.run()
    kept = run.result()
    assert kept is not None and kept.text == SHORT
    assert kept.problem is Problem.WRONG_LANGUAGE and kept.attempts == 2


def test_a_unit_still_suspect_after_every_level_is_flagged_and_submits_no_more() -> None:
    translate, _ = _model({}, {})  # every try copies its source
    scheduler = FakeScheduler(translate)
    (run,) = _start(scheduler, [SOURCE])
    scheduler.run()
    kept = run.result()
    assert kept is not None and kept.problem is Problem.WRONG_LANGUAGE and kept.attempts >= 2
    # the unit, its halves together, then each half with the retry prompt: three tries, nothing after
    assert [len(s) for s in scheduler.submissions] == [1, 2, 2]
    assert all(r.retry_prompt for r in scheduler.submissions[-1])


def test_a_copy_is_retried_without_the_glossary_terms_placed_in_it_a_missing_term_with_them() -> None:
    """Foreign words placed into a source are what a model most readily copies: after a copy, the retries
    (the pieces' own too) go without them; a unit that only missed a term is retried with them."""
    terms = Policy("en", "de", retry_prompt=True, terms=Glossary.from_dict({"bridge": "Überführung"}))
    translate, _ = _model({}, {})  # every try copies its source
    scheduler = FakeScheduler(translate)
    _start(scheduler, [SOURCE], terms)
    scheduler.run()
    assert scheduler.submissions[0] == [Request(SOURCE)]
    assert (
        all(not r.place_terms for s in scheduler.submissions[1:] for r in s)
        and len(scheduler.submissions) > 2
    )
    bridge = {"Where is the old bridge?": "Wo ist die alte Brücke?"}  # German, without the term
    translate, _ = _model(bridge, bridge)
    scheduler = FakeScheduler(translate)
    _start(scheduler, list(bridge), terms)
    scheduler.run()
    assert [r.place_terms for s in scheduler.submissions for r in s] == [True, True]


def test_the_next_try_waits_for_every_job_of_this_one_and_keeps_their_order() -> None:
    """The halves finish last first: nothing is submitted until both did, and the unit reads them in order."""
    translate, _ = _model(HALVES, {})
    scheduler = FakeScheduler(translate)
    (run,) = _start(scheduler, [SOURCE])
    scheduler.step()  # the copy: the unit asks for its halves
    assert [r.text for r in scheduler.submissions[1]] == list(HALVES)
    first_half, second_half = scheduler.waiting
    scheduler.waiting = [second_half]
    scheduler.step()
    assert len(scheduler.submissions) == 2 and not run.done
    scheduler.waiting = [first_half]
    scheduler.step()
    kept = run.result()
    assert kept is not None and kept.text == " ".join(HALVES.values()) and kept.problem is None
    assert len(scheduler.submissions) == 2


def test_cancel_stops_the_running_try_and_submits_no_other() -> None:
    translate, calls = _model({}, {SHORT: SHORT_GERMAN})
    scheduler = FakeScheduler(translate)
    (run,) = _start(scheduler, [SHORT])
    scheduler.step()  # the copy: the retry is submitted
    (retrying,) = scheduler.waiting
    run.cancel()
    assert retrying.cancelled
    scheduler.run()
    assert run.result() is None and len(scheduler.submissions) == 2 and len(calls) == 1


def test_a_run_cancelled_before_its_jobs_are_watched_cancels_them_at_once() -> None:
    translate, _ = _model({}, {})
    scheduler = FakeScheduler(translate)
    (run,) = _start(scheduler, [SHORT])
    run.cancel()
    late = FakeJob(Request(SHORT), lambda job: None)
    run.watch([late])
    assert late.cancelled


def test_an_error_that_ends_a_job_reaches_whoever_waits_for_the_unit() -> None:
    translate, _ = _model({}, {})
    scheduler = FakeScheduler(translate)
    runs = _start(scheduler, [SOURCE, SHORT])
    failing, fine = scheduler.waiting
    scheduler.waiting = []
    failing.finish(error=RuntimeError("the decoding thread died"))
    with pytest.raises(RuntimeError, match="decoding thread died"):
        runs[0].result()
    fine.finish(_result(SHORT, SHORT_GERMAN))
    assert runs[1].result() == _result(SHORT, SHORT_GERMAN)


def test_a_streamed_output_is_flagged_not_retried_and_an_empty_one_keeps_its_source() -> None:
    printed = check_printed(SHORT, _result(SHORT, SHORT), RETRYING, printed=True)
    assert printed.text == SHORT and printed.problem is Problem.WRONG_LANGUAGE and printed.attempts == 1
    nothing = check_printed(SHORT, _result(SHORT, ""), RETRYING, printed=False)
    assert nothing.text == SHORT and nothing.problem is Problem.KEPT


def test_the_guards_read_a_stop_without_the_engine() -> None:
    """Stop and Generation live apart from the scheduler: the guards import neither llama.cpp nor the engine."""
    code = (
        "import sys, tg_edge.guards\n"
        "print(sorted({'llama_cpp', 'tg_edge.engine', 'tg_edge.scheduler'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
