"""Server-sent events: a text's translation as it is decoded, a file's translation with its progress.

``POST /translate_stream`` and ``POST /translate_file_stream`` take what LibreTranslate's ``/translate``
and ``/translate_file`` take (same fields, key, limits and admission) and answer ``text/event-stream``:
events as the work moves on, then one ``done`` or ``error`` event. A request refused before it is
admitted (bad field, over a limit, wrong key) gets the plain JSON error instead; from then on (a full
queue, a file over a limit found while reading it, a timeout) the stream's ``error`` event carries the
status and message. The page uses them; so can any app (see docs/page.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from . import openapi
from .errors import ClientGone, RequestError
from .libretranslate import (
    POST_ROUTE,
    LibreTranslate,
    _api,
    _authorized_fields,
    _detection_json,
    _languages,
    _run,
    read_file_request,
)
from .parsing import check_limits, required_string

log = logging.getLogger("tg_edge.server")

Emit = Callable[[str, dict[str, Any]], None]
"""Sends one event (its name and JSON data) from the worker thread doing the request's work."""


def add_routes(app: FastAPI) -> None:
    """Serve the streaming endpoints (after LibreTranslate's routes: they share its state and error shape)."""
    post = POST_ROUTE
    app.add_api_route(
        "/translate_stream",
        translate_stream,
        summary="Translate text, streamed as server-sent events while it is decoded",
        openapi_extra=openapi.request_body(openapi.LIBRETRANSLATE_TRANSLATE),
        **post,
    )
    app.add_api_route(
        "/translate_file_stream",
        translate_file_stream,
        summary="Translate a file, with its progress as server-sent events",
        openapi_extra=openapi.request_body(openapi.LIBRETRANSLATE_FILE, multipart_only=True),
        **post,
    )


async def translate_stream(request: Request) -> Response:
    """``POST /translate_stream``: one text (``q``); events ``detected`` (with ``source=auto``), ``piece``
    (each decoded piece of the translation, in order), then ``done`` with the text cut into parts, the
    segments the guards flagged carrying their problem."""
    api = _api(request)
    fields = await _authorized_fields(api, request)
    q = fields.get("q")
    if not isinstance(q, str) or not q:
        raise RequestError(400, "Invalid request: missing q parameter (one text)")
    source_code, target_code = required_string(fields, "source"), required_string(fields, "target")
    check_limits([q], api.service.settings)
    source, target = _languages(api, source_code, target_code)

    def work(emit: Emit) -> dict[str, Any]:
        parts = api.service.translation.translate_stream(
            q,
            source=source,
            target=target,
            on_detected=lambda detected: emit("detected", _detection_json(detected)),
            on_piece=lambda piece: emit("piece", {"text": piece}),
        )
        return {
            "translatedText": "".join(part.text for part in parts),
            "parts": [
                {key: value for key, value in asdict(part).items() if value is not None} for part in parts
            ],
        }

    return event_stream(api, request, work)


async def translate_file_stream(request: Request) -> Response:
    """``POST /translate_file_stream``: a file as for ``/translate_file``; events ``progress``
    (``{"done": segments, "total": segments}``), then ``done`` with ``translatedFileUrl``."""
    api = _api(request)
    upload = await read_file_request(api, request)

    def work(emit: Emit) -> bytes:
        return upload.translate(lambda done, total: emit("progress", {"done": done, "total": total}))

    def keep(translated: bytes) -> dict[str, Any]:
        return {"translatedFileUrl": upload.keep(api, request, translated), "filename": upload.filename}

    return event_stream(api, request, work, finish=keep)


def event_stream(
    api: LibreTranslate,
    request: Request,
    work: Callable[[Emit], Any],
    finish: Callable[[Any], dict[str, Any]] | None = None,
) -> StreamingResponse:
    """Run ``work`` through the admission and stream what it emits, then its result as the ``done`` event's
    data (made so by ``finish``, on the event loop) or its error as ``error``; the work stops when the client
    goes away."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def emit(event: str, data: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (event, data))

    async def events() -> AsyncIterator[bytes]:
        task = asyncio.ensure_future(_run(api, request, lambda: work(emit)))
        try:
            while not task.done():
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield event_bytes(*getter.result())
                else:
                    getter.cancel()
            while not queue.empty():  # emitted before the work ended: their callbacks ran before its own
                yield event_bytes(*queue.get_nowait())
            try:
                result = task.result()
                yield event_bytes("done", finish(result) if finish is not None else result)
            except RequestError as error:
                yield event_bytes("error", {"error": error.message, "status": error.status})
            except ClientGone:
                return
            except Exception as exc:  # a bug: the stream still ends with one readable line
                log.error("unexpected error streaming %s", request.url.path, exc_info=exc)
                yield event_bytes("error", {"error": f"internal error ({type(exc).__name__})", "status": 500})
        finally:
            # Left early (the client went away): the admission sees it too and stops the work, or its
            # timeout does; its outcome is collected here so that nothing reports it as never retrieved.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def event_bytes(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event; its data is one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
