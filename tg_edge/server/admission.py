"""Admission: a worker pool, a limit on requests admitted at once, a timeout, and clients that leave.

Every request's translation runs on one of ``workers`` threads, so concurrent requests are decoded
together by the engine (there is no lock here around the model). Requests beyond ``max_queue`` get
429, a request that takes longer than ``timeout`` fails and its queued work is dropped, and a
client that goes away while waiting does not cost a translation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from starlette.requests import Request
from starlette.types import Receive

from .errors import ClientGone, RequestError
from .settings import ServerSettings


class Admission:
    """Runs the requests' work on a worker pool within the queue limit, the timeout and the client's patience."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="tg-edge-worker")
        self._admitted = 0
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """Requests admitted now, working or waiting for a worker."""
        return self._admitted

    async def run(self, request: Request, work: Callable[[], Any]) -> Any:  # noqa: ANN401
        """``work()`` on a worker thread; :class:`RequestError` when full or too slow, :class:`ClientGone`."""
        if not self._enter():
            raise RequestError(429, f"Slowdown: {self.settings.max_queue} requests are already queued; "
                                    "retry shortly")
        try:
            future: Future[Any] = self._executor.submit(work)
        except RuntimeError:  # the pool shut down: the server is stopping
            self._leave()
            raise RequestError(500, "Cannot translate text: the server is shutting down") from None
        future.add_done_callback(lambda _: self._leave())  # finished or cancelled while queued: exactly once
        waiter = asyncio.wrap_future(future)
        watcher = asyncio.ensure_future(_wait_for_disconnect(request.receive))
        try:
            done, _ = await asyncio.wait({waiter, watcher}, timeout=self.settings.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the server is stopping
            future.cancel()
            raise
        finally:
            watcher.cancel()
        if waiter in done:
            return waiter.result()
        future.cancel()  # drops the work if it still waits for a worker; a running translation finishes
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # nobody awaits its outcome now
        if watcher in done:
            raise ClientGone
        raise RequestError(500, f"Cannot translate text: no result within {self.settings.timeout:g} s "
                                "(server busy)")

    def close(self, wait: bool = True) -> None:
        """Drop queued work and wait for running work, so the translator can be closed safely."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _enter(self) -> bool:
        with self._lock:
            if self._admitted >= self.settings.max_queue:
                return False
            self._admitted += 1
            return True

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1


async def _wait_for_disconnect(receive: Receive) -> None:
    """Return when the client disconnects (after the request body, ``receive`` only reports that)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
