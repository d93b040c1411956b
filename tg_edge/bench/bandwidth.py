"""A memory-bandwidth probe: how fast this machine streams memory, the bound on single-stream decode speed."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np


def measure_bandwidth(threads: int, *, megabytes: int = 256, repeats: int = 5) -> dict[str, Any]:
    """STREAM-style copy of a ``megabytes`` array with 1 and with ``threads`` threads (numpy releases the GIL).

    Each thread count keeps the best of ``repeats`` passes after a warm-up pass; bytes read plus bytes
    written count, as in STREAM. ``gb_per_s`` is the best over the thread counts: the machine's limit.
    """
    source = np.ones(megabytes * 2**20 // 8)
    target = np.empty_like(source)
    by_threads = {}
    for count in sorted({1, threads}):
        edges = np.linspace(0, source.size, count + 1).astype(int)

        def copy(part: int, edges: np.ndarray = edges) -> None:  # this pass's edges, bound now (B023)
            np.copyto(target[edges[part] : edges[part + 1]], source[edges[part] : edges[part + 1]])

        times = []
        with ThreadPoolExecutor(max_workers=count) as pool:
            for _ in range(repeats + 1):
                started = time.perf_counter()
                list(pool.map(copy, range(count)))
                times.append(time.perf_counter() - started)
        by_threads[str(count)] = 2 * source.nbytes / min(times[1:]) / 1e9
    return {
        "gb_per_s": max(by_threads.values()),
        "gb_per_s_by_threads": by_threads,
        "method": f"numpy copy of {megabytes} MiB, bytes read + written, best of {repeats}",
    }
