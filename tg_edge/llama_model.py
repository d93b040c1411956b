"""Loading a GGUF into llama.cpp as tg-edge loads every model: the parameters, llama.cpp's log routed into
Python's logging (and noted during a load), the file's pages released where llama.cpp repacks the weights, and
the model's metadata. Part of the engine layer: :mod:`tg_edge.engine` builds its context on what this loads."""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import llama_cpp

from .machine import cpu_has_amx
from .resident import PageReleaser, weight_buffers

_llama_log = logging.getLogger("tg_edge.llama")

# ggml log levels: 1 debug, 2 info, 3 warn, 4 error, 5 continues the previous line. llama.cpp's
# warnings are about its own tuning (context sizes, cache layout), so users see them only with -v.
_LEVELS = {1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.WARNING}


@llama_cpp.llama_log_callback
def _route_llama_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    message = text.decode("utf-8", errors="replace").rstrip()
    if message:
        _llama_log.log(_LEVELS.get(level, logging.DEBUG), "%s", message)
        for notes in tuple(_load_notes):
            notes.append(message)


_load_notes: list[list[str]] = []  # the log of each model load under way (see load_model)


_log_routing_lock = threading.Lock()
_log_routed: set[str] = set()  # llama.cpp's log callbacks are process-wide: tg-edge sets each once


def route_llama_logs(*setters: Callable[[ctypes._CFunctionType, ctypes.c_void_p], None]) -> None:
    """Send llama.cpp's own log lines to the ``tg_edge.llama`` logger instead of stderr (and stdout).

    Installs the callback through ``llama_log_set`` and each of ``setters`` (a library of llama.cpp's
    with a log of its own, e.g. mtmd's ``mtmd_log_set``) the first time each is asked for in a
    process and does nothing after, so a callback the application sets later is left alone. Thread-safe.
    """
    with _log_routing_lock:
        for setter in (llama_cpp.llama_log_set, *setters):
            if setter.__name__ not in _log_routed:  # ctypes functions are not hashable: by name
                setter(_route_llama_log, ctypes.c_void_p(0))
                _log_routed.add(setter.__name__)


def model_params(gpu_layers: int) -> llama_cpp.llama_model_params:
    """llama.cpp's model parameters as tg-edge loads every model: weights mmap'd (``load_mode`` MMAP),
    ``gpu_layers`` offloaded.

    On CPUs with AMX (Intel Xeon since Sapphire Rapids) llama.cpp moves Q4_K weights into AMX buffers
    and crashes in the first matrix product (ggml-org/llama.cpp#20824); there the extra buffer types
    (AMX, and with them weight repacking) are left out.
    """
    params = llama_cpp.llama_model_default_params()
    params.n_gpu_layers = gpu_layers
    params.load_mode = llama_cpp.LLAMA_LOAD_MODE_MMAP  # use_mmap is gone: setting it did nothing
    if cpu_has_amx():
        params.use_extra_bufts = False
    return params


def load_model(
    path: str | os.PathLike[str], gpu_layers: int
) -> tuple[llama_cpp.llama_model_p | None, dict[str, int]]:
    """llama.cpp's model of the file at ``path`` (``None`` where llama.cpp could not load it) and the bytes of
    each of its weight buffers, read from its load log (``CPU_Mapped``, ``CPU_REPACK`` ...). On a CPU-only load
    that repacks weights, the file's mapped pages are released as the load goes (see :mod:`tg_edge.resident`)."""
    notes: list[str] = []
    params = model_params(gpu_layers)
    releaser = PageReleaser(Path(path), notes) if gpu_layers == 0 else None
    if releaser is not None:

        def on_progress(progress: float, user_data: ctypes.c_void_p) -> bool:
            releaser.on_progress(progress)
            return True

        callback = llama_cpp.llama_progress_callback(on_progress)  # referenced until the load returns
        params.progress_callback = callback
    with _log_routing_lock:
        _load_notes.append(notes)
    try:
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    finally:
        with _log_routing_lock:
            _load_notes.remove(notes)
    buffers = weight_buffers(notes)
    if model and releaser is not None and releaser.repacking:
        releaser.release()
    return model, buffers


def read_metadata(model: llama_cpp.llama_model_p) -> dict[str, str]:
    """The GGUF's key/value metadata as strings (llama.cpp leaves arrays out)."""
    out: dict[str, str] = {}
    size = 4096
    buffer = ctypes.create_string_buffer(size)

    def read(
        getter: Callable[[llama_cpp.llama_model_p, int, ctypes.Array[ctypes.c_char], int], int], index: int
    ) -> str:
        nonlocal buffer, size
        n = getter(model, index, buffer, size)
        if n >= size:
            size = n + 1
            buffer = ctypes.create_string_buffer(size)
            getter(model, index, buffer, size)
        return buffer.value.decode("utf-8", errors="replace")

    for i in range(llama_cpp.llama_model_meta_count(model)):
        out[read(llama_cpp.llama_model_meta_key_by_index, i)] = read(
            llama_cpp.llama_model_meta_val_str_by_index, i
        )
    return out
