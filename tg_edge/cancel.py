"""Cancellation: a token one thread sets and the thread doing the work checks at its boundaries.

The server hands a :class:`Cancellation` to the Translator with a request's work; when the client
goes away, the request's time runs out or the server stops, it is cancelled: the scheduler jobs it
watches stop at their next decoding step, and the work raises :class:`~tg_edge.errors.Cancelled`
at its next check (a chunk, a batch of segments, a piece of a file being read).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

from .errors import Cancelled


class _Cancellable(Protocol):
    def cancel(self) -> None: ...


class Cancellation:
    """Set once by anyone (thread-safe); the work checks :meth:`check` and registers its jobs with :meth:`watch`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._watched: list[set[_Cancellable]] = []

    @property
    def cancelled(self) -> bool:
        return self._reason is not None

    @property
    def reason(self) -> str | None:
        """Why it was cancelled (for the error message), or None while it is not."""
        return self._reason

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel now: every watched job is told to stop; later checks raise. Only the first reason counts."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
            jobs = [job for group in self._watched for job in group]
        for job in jobs:
            job.cancel()

    def check(self) -> None:
        """Raise :class:`~tg_edge.errors.Cancelled` once cancelled."""
        if self._reason is not None:
            raise Cancelled(self._reason)

    @contextmanager
    def watch(self, jobs: Iterable[_Cancellable]) -> Iterator[None]:
        """Cancel ``jobs`` too if this is cancelled while the block runs (at once if it already is)."""
        group = set(jobs)
        with self._lock:
            self._watched.append(group)
            already = self._reason is not None
        if already:
            for job in group:
                job.cancel()
        try:
            yield
        finally:
            with self._lock:
                self._watched = [other for other in self._watched if other is not group]


def check(cancel: Cancellation | None) -> None:
    """:meth:`Cancellation.check` for an optional token."""
    if cancel is not None:
        cancel.check()
