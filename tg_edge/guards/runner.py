"""The runner: units translated and retried as their jobs finish, so a unit's retry joins the batches still running.

Each unit follows its :data:`~tg_edge.guards.policy.Steps`: the first translation, then what the policy asks
for. Its next requests are submitted from the job's completion callback, in the decoding thread, the moment the
jobs of its current try have finished: a retry fills the seats the call's first pass leaves free instead of
waiting for all of it, and since the decoding thread itself submits it, the step it joins depends on the input
alone (the output stays reproducible).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Generic, Protocol, TypeVar

from .policy import Request, Steps
from .result import SegmentResult

G = TypeVar("G")
G_co = TypeVar("G_co", covariant=True)


class Job(Protocol[G_co]):
    """What the runner needs of a submitted request (:class:`tg_edge.scheduler.Job` is one)."""

    def result(self, timeout: float | None = None) -> G_co: ...
    def cancel(self) -> None: ...


OnDone = Callable[[Job[G]], None]
Submit = Callable[[Sequence[Request], Sequence[OnDone[G]]], Sequence[Job[G]]]
"""Hands requests to the scheduler as one submission, one completion callback per job (called once it is done,
from whichever thread finished it)."""
ToResult = Callable[[str, G], SegmentResult]
"""Makes the result of a request's text from what its job produced (``SegmentResult.from_generation``)."""


class UnitRun(Generic[G]):
    """One unit's translation and retries; :meth:`result` waits for the result it keeps."""

    def __init__(self, steps: Steps, submit: Submit[G], to_result: ToResult[G]) -> None:
        self._steps = steps
        self._submit = submit
        self._to_result = to_result
        self._lock = threading.RLock()  # a failing submit may resolve its jobs in this very thread
        self._done = threading.Event()
        self._result: SegmentResult | None = None
        self._error: BaseException | None = None
        self._cancelled = False
        self._jobs: list[Job[G]] = []
        self._replies: dict[int, Job[G]] = {}
        self.requests: list[Request] = []
        """The requests of the running try."""
        try:
            self.requests = next(self._steps)
        except StopIteration as done:
            self._end(done.value)

    def result(self) -> SegmentResult | None:
        """The unit's kept result (``None`` once cancelled); re-raises what ended it otherwise."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result

    @property
    def done(self) -> bool:
        """Whether the unit has its result (or its error, or was cancelled)."""
        return self._done.is_set()

    def cancel(self) -> None:
        """Stop the running try's jobs and submit no other."""
        with self._lock:
            self._cancelled = True
            jobs = list(self._jobs)
        for job in jobs:
            job.cancel()

    def callbacks(self) -> list[OnDone[G]]:
        """One completion callback per request of the running try, to submit with them."""
        self._replies = {}
        return [partial(self._job_done, k) for k in range(len(self.requests))]

    def watch(self, jobs: Sequence[Job[G]]) -> None:
        """Take the running try's jobs (to cancel them when asked)."""
        with self._lock:
            self._jobs = list(jobs)
            cancelled = self._cancelled
        if cancelled:
            for job in jobs:
                job.cancel()

    def _job_done(self, k: int, job: Job[G]) -> None:
        with self._lock:
            self._replies[k] = job
            if len(self._replies) < len(self.requests) or self._done.is_set():
                return
            try:
                produced = [self._replies[i].result(timeout=0) for i in range(len(self.requests))]
                if self._cancelled:
                    self._end(None)
                    return
                results = [self._to_result(r.text, p) for r, p in zip(self.requests, produced, strict=True)]
                self.requests = self._steps.send(results)
                callbacks = self.callbacks()
                self.watch(self._submit(self.requests, callbacks))
            except StopIteration as done:
                self._end(done.value)
            except BaseException as exc:  # noqa: BLE001 - it belongs to the caller waiting in result()
                self._error = exc
                self._end(None)

    def _end(self, result: SegmentResult | None) -> None:
        self._result = result
        self._jobs = []
        self._done.set()


def start_units(steps: Sequence[Steps], submit: Submit[G], to_result: ToResult[G]) -> list[UnitRun[G]]:
    """Start every unit's run with one submission of all their first requests (the scheduler sees them in
    one step, as :meth:`~tg_edge.scheduler.Scheduler.submit_many` promises)."""
    runs = [UnitRun(s, submit, to_result) for s in steps]
    requests: list[Request] = []
    callbacks: list[OnDone[G]] = []
    for run in runs:
        requests += run.requests
        callbacks += run.callbacks()
    jobs = list(submit(requests, callbacks)) if requests else []
    for run in runs:
        mine, jobs = jobs[: len(run.requests)], jobs[len(run.requests) :]
        run.watch(mine)
    return runs
