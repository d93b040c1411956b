"""Units of a call translated and retried as their jobs finish, so a unit's retry joins the batches still running.

Each unit follows its :data:`~tg_edge.guards.Mending` course: the first translation, then what the guards ask
for. Its next requests are submitted from the job's completion callback, in the decoding thread, the moment the
jobs of its current try have finished: a retry fills the seats the call's first pass leaves free instead of
waiting for all of it, and since the decoding thread itself submits it, the step it joins depends on the input
alone (the output stays reproducible).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Generic, TypeVar

from .guards import Mending, Request, Result

if TYPE_CHECKING:
    from .scheduler import Generation, Job

R = TypeVar("R", bound=Result)
OnDone = Callable[["Job"], None]
Submit = Callable[[Sequence[Request], Sequence[OnDone]], Sequence["Job"]]
"""Hands requests to the scheduler as one submission, one completion callback per job."""


class Course(Generic[R]):
    """One unit's course; :meth:`result` waits for the result it keeps."""

    def __init__(self, steps: Mending[R], submit: Submit, to_result: Callable[[str, Generation], R]) -> None:
        self._steps = steps
        self._submit = submit
        self._to_result = to_result
        self._lock = threading.RLock()  # a failing submit may resolve its jobs in this very thread
        self._done = threading.Event()
        self._result: R | None = None
        self._error: BaseException | None = None
        self._cancelled = False
        self._requests: list[Request] = []
        self._jobs: list[Job] = []
        self._replies: dict[int, Job] = {}

    def result(self) -> R | None:
        """The unit's kept result (``None`` once cancelled); re-raises what ended it otherwise."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result

    def cancel(self) -> None:
        """Stop the running try's jobs and submit no other."""
        with self._lock:
            self._cancelled = True
            jobs = list(self._jobs)
        for job in jobs:
            job.cancel()

    def _first(self) -> list[Request]:
        try:
            self._requests = next(self._steps)
        except StopIteration as done:
            self._end(done.value)
        return self._requests

    def _callbacks(self) -> list[OnDone]:
        self._replies = {}
        return [partial(self._job_done, k) for k in range(len(self._requests))]

    def _watch(self, jobs: Sequence[Job]) -> None:
        with self._lock:
            self._jobs = list(jobs)
            cancelled = self._cancelled
        if cancelled:
            for job in jobs:
                job.cancel()

    def _job_done(self, k: int, job: Job) -> None:
        with self._lock:
            self._replies[k] = job
            if len(self._replies) < len(self._requests) or self._done.is_set():
                return
            try:
                generations = [self._replies[i].result(timeout=0) for i in range(len(self._requests))]
                if self._cancelled:
                    self._end(None)
                    return
                results = [
                    self._to_result(text, g) for (text, _), g in zip(self._requests, generations, strict=True)
                ]
                self._requests = self._steps.send(results)
                callbacks = self._callbacks()
                self._watch(self._submit(self._requests, callbacks))
            except StopIteration as done:
                self._end(done.value)
            except BaseException as exc:  # noqa: BLE001 - it belongs to the caller waiting in result()
                self._error = exc
                self._end(None)

    def _end(self, result: R | None) -> None:
        self._result = result
        self._jobs = []
        self._done.set()


def start_courses(
    steps: Sequence[Mending[R]], submit: Submit, to_result: Callable[[str, Generation], R]
) -> list[Course[R]]:
    """Start every unit's course with one submission of all their first requests (the scheduler sees them in
    one step, as :meth:`~tg_edge.scheduler.Scheduler.submit_many` promises)."""
    courses = [Course(s, submit, to_result) for s in steps]
    requests: list[Request] = []
    callbacks: list[OnDone] = []
    for course in courses:
        requests += course._first()  # noqa: SLF001
        callbacks += course._callbacks()  # noqa: SLF001
    jobs = list(submit(requests, callbacks)) if requests else []
    for course in courses:
        mine, jobs = jobs[: len(course._requests)], jobs[len(course._requests) :]  # noqa: SLF001
        course._watch(mine)  # noqa: SLF001
    return courses
