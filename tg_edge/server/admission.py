"""Admission: a worker pool, a limit on requests admitted at once, a timeout, clients that leave, shutdown.

Every request's work (reading its document, translating, rendering) runs on one of ``workers``
threads, so concurrent requests are decoded together by the engine (there is no lock here around
the model) and the event loop never parses a file. Requests beyond ``max_queue`` get 429. Each
admitted request has a :class:`~tg_edge.cancel.Cancellation`, which its work finds through
:func:`current_cancellation`: when the request's time runs out, its client goes away or the
server stops, it is cancelled, and the work stops at its next check (a decoding step, a piece of
the file being read) and frees its worker.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from starlette.requests import Request
from starlette.types import Receive

from ..cancel import Cancellation
from ..errors import Cancelled, InputTooLarge, TextLimitExceeded
from .errors import ClientGone, RequestError
from .settings import ServerSettings

_current: ContextVar[Cancellation | None] = ContextVar("tg_edge_request_cancellation", default=None)
_STOPPING = "the server is shutting down"


def current_cancellation() -> Cancellation | None:
    """The cancellation of the request whose work runs on this thread; None outside a request's work."""
    return _current.get()


class Admission:
    """Runs the requests' work on a worker pool within the queue limit, the timeout and the client's patience."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="tg-edge-worker")
        self._admitted: set[Cancellation] = set()
        self._busy = 0
        self._stopping = False
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """Requests admitted now, working or waiting for a worker."""
        return len(self._admitted)

    @property
    def busy(self) -> int:
        """Workers running a request's work now."""
        return self._busy

    async def run(self, request: Request, work: Callable[[], Any]) -> Any:
        """``work()`` on a worker thread; :class:`RequestError` when full, too slow, stopping or over a
        limit found while reading, :class:`ClientGone` when the client left."""
        cancel = Cancellation()
        self._enter(cancel)
        try:
            future: Future[Any] = self._executor.submit(self._work, cancel, work)
        except RuntimeError:  # the pool shut down: the server is stopping
            self._leave(cancel)
            raise RequestError(503, f"Service unavailable: {_STOPPING}; retry shortly") from None
        future.add_done_callback(
            lambda _: self._leave(cancel)
        )  # finished or dropped while queued: exactly once
        waiter = asyncio.wrap_future(future)
        watcher = asyncio.ensure_future(_wait_for_disconnect(request.receive))
        try:
            done, _ = await asyncio.wait(
                {waiter, watcher}, timeout=self.settings.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:  # the server stopped waiting for this request
            cancel.cancel(_STOPPING)
            future.cancel()
            if self._stopping:  # shutting down past its grace period: still a clean answer, not a traceback
                raise RequestError(503, f"Service unavailable: {_STOPPING}; retry shortly") from None
            raise
        finally:
            watcher.cancel()
        if waiter in done:
            return _outcome(waiter)
        future.cancel()  # drops the work if it still waits for a worker
        gone = watcher in done
        cancel.cancel("the client went away" if gone else "the request's time ran out")  # stops running work
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # nobody awaits its outcome now
        if gone:
            raise ClientGone
        raise RequestError(
            500, f"Cannot translate text: no result within {self.settings.timeout:g} s (server busy)"
        )

    def stop(self) -> None:
        """Stop: new and queued requests get 503, running work is cancelled at its next check."""
        with self._lock:
            self._stopping = True
            admitted = list(self._admitted)
        for cancel in admitted:
            cancel.cancel(_STOPPING)

    def close(self, wait: bool = True) -> None:
        """Drop queued work and wait for running work, so the translator can be closed safely."""
        self.stop()
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _enter(self, cancel: Cancellation) -> None:
        with self._lock:
            if self._stopping:
                raise RequestError(503, f"Service unavailable: {_STOPPING}; retry shortly")
            if len(self._admitted) >= self.settings.max_queue:
                raise RequestError(
                    429, f"Slowdown: {self.settings.max_queue} requests are already queued; retry shortly"
                )
            self._admitted.add(cancel)

    def _leave(self, cancel: Cancellation) -> None:
        with self._lock:
            self._admitted.discard(cancel)

    def _work(self, cancel: Cancellation, work: Callable[[], Any]) -> Any:
        """On a worker: ``work()`` with ``cancel`` as the current cancellation (unless cancelled already)."""
        with self._lock:
            self._busy += 1
        token = _current.set(cancel)
        try:
            cancel.check()
            return work()
        finally:
            _current.reset(token)
            with self._lock:
                self._busy -= 1


def _outcome(waiter: asyncio.Future[Any]) -> Any:
    """The work's result; the errors every API answers alike turned into their statuses."""
    try:
        return waiter.result()
    except Cancelled:  # by stop(): the only canceller whose request still waits for an answer
        raise RequestError(503, f"Service unavailable: {_STOPPING}; retry shortly") from None
    except InputTooLarge as exc:
        raise RequestError(413, f"Request entity too large: {exc}") from None
    except TextLimitExceeded as exc:
        raise RequestError(400, f"Invalid request: {exc}") from None


async def _wait_for_disconnect(receive: Receive) -> None:
    """Return when the client disconnects (after the request body, ``receive`` only reports that)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
