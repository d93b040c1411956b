"""A fake scheduler for the guards' runner: submitted jobs wait until :meth:`FakeScheduler.step` answers them
all together, as one decoding batch, with a translate function instead of a model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tg_edge.generation import Stop
from tg_edge.glossary import Glossary
from tg_edge.guards import Policy, Request, SegmentResult, retry_steps, start_units
from tg_edge.guards.runner import OnDone

Translate = Callable[..., Sequence[SegmentResult]]
"""``translate(texts)``, or ``translate(texts, retry_prompts)`` when some text needs the retry prompt."""


class FakeJob:
    """A submitted request: done once the scheduler finishes it, then its callback is called."""

    def __init__(self, request: Request, on_done: OnDone[SegmentResult]) -> None:
        self.request = request
        self.on_done = on_done
        self.cancelled = False
        self.done = False
        self._value: SegmentResult | None = None
        self._error: BaseException | None = None

    def result(self, timeout: float | None = None) -> SegmentResult:
        if not self.done:
            raise TimeoutError("not finished")
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def cancel(self) -> None:
        self.cancelled = True

    def finish(self, value: SegmentResult | None = None, error: BaseException | None = None) -> None:
        self._value, self._error, self.done = value, error, True
        self.on_done(self)


class FakeScheduler:
    """Holds what is submitted; :meth:`step` answers every waiting job with one ``translate`` call."""

    def __init__(self, translate: Translate) -> None:
        self.translate = translate
        self.waiting: list[FakeJob] = []
        self.submissions: list[list[Request]] = []

    def submit(self, requests: Sequence[Request], on_done: Sequence[OnDone[SegmentResult]]) -> list[FakeJob]:
        self.submissions.append(list(requests))
        jobs = [FakeJob(r, done) for r, done in zip(requests, on_done, strict=True)]
        self.waiting += jobs
        return jobs

    def step(self, order: Callable[[list[FakeJob]], list[FakeJob]] = list) -> None:
        """Finish every waiting job (a cancelled one with a cut, empty result), in ``order``; what their
        callbacks submit waits for the next step."""
        batch, self.waiting = self.waiting, []
        live = [job for job in batch if not job.cancelled]
        texts, flags = [j.request.text for j in live], [j.request.retry_prompt for j in live]
        answers: dict[int, SegmentResult] = {}
        if live:
            translated = self.translate(texts, flags) if any(flags) else self.translate(texts)
            answers = dict(zip(map(id, live), translated, strict=True))
        for job in order(batch):
            if job.cancelled:
                job.finish(_cancelled(job.request.text))
            else:
                job.finish(answers[id(job)])

    def run(self) -> None:
        while self.waiting:
            self.step()


def _cancelled(text: str) -> SegmentResult:
    return SegmentResult(
        source=text, text="", stop=Stop.CANCELLED, prompt_tokens=1, new_tokens=0, reused_tokens=0, seconds=0.0
    )


def retry(
    units: Sequence[str],
    first: Sequence[SegmentResult],
    translate: Translate,
    *,
    source: str,
    target: str,
    alternate: bool = False,
    language: bool = True,
    terms: Glossary | None = None,
) -> list[SegmentResult]:
    """Check each unit's first result and retry the suspect ones through the real runner, on a fake scheduler
    that decodes everything submitted in one step together (so the retries of one level share a batch)."""
    policy = Policy(source, target, check_language=language, terms=terms, retry_prompt=alternate)
    scheduler = FakeScheduler(translate)
    steps = [retry_steps(unit, result, policy) for unit, result in zip(units, first, strict=True)]
    runs = start_units(steps, scheduler.submit, lambda _text, result: result)
    scheduler.run()
    results = [run.result() for run in runs]
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]
