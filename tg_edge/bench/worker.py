"""One measurement in a fresh process, so peak memory and loaded libraries never carry over between them.

``python -m tg_edge.bench.worker KIND SPEC.json RESULT.json`` with KIND ``tg_edge``,
``tg_edge_speed``, ``raw``, ``naive``, ``agreement`` or ``memory``:
reads the keyword arguments from SPEC.json, writes the figures (plus peak RSS) or ``{"error": ...}`` to
RESULT.json, and progress lines to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import TgEdgeError
from .machine import peak_rss_bytes
from .spawn import Progress

KINDS = ("tg_edge", "tg_edge_speed", "raw", "naive", "agreement", "memory")


def main(argv: list[str]) -> int:
    """Run one measurement; the exit status is 0 on success, 1 on a tg-edge error (described in RESULT)."""
    kind, spec_path, result_path = argv
    logging.getLogger("tg_edge").setLevel(
        logging.ERROR
    )  # problem segments are counted in the results instead
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    label = spec.pop("label")
    spec["model_path"] = Path(spec["model_path"])
    last = [0.0]

    def progress(message: str) -> None:
        now = time.monotonic()
        if sys.stderr.isatty() or now - last[0] >= 2:
            last[0] = now
            sys.stderr.write(
                f"\r\033[K  {label}: {message}" if sys.stderr.isatty() else f"  {label}: {message}\n"
            )
            sys.stderr.flush()

    rss_start = peak_rss_bytes()
    try:
        result = _measure(kind, spec, progress)
    except TgEdgeError as exc:
        Path(result_path).write_text(json.dumps({"error": str(exc)}), encoding="utf-8")
        return 1
    finally:
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K")
    result["peak_rss_bytes"] = peak_rss_bytes()
    result["rss_at_start_bytes"] = rss_start
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


def _measure(kind: str, spec: dict[str, Any], progress: Progress) -> dict[str, Any]:
    if kind == "tg_edge":
        from .tgedge import tg_edge_loop

        return tg_edge_loop(**spec, progress=progress)
    if kind == "tg_edge_speed":
        from .tgedge import tg_edge_speed

        return tg_edge_speed(**spec, progress=progress)
    if kind == "memory":
        from .memory import memory_profile

        return memory_profile(**spec, progress=progress)
    if kind == "agreement":
        from .agreement import divergence_gaps

        return divergence_gaps(**spec, progress=progress)
    from .reference import naive_loop, raw_loop  # llama_cpp directly, only for the reference points

    if kind == "raw":
        return raw_loop(**spec, progress=progress)
    if kind == "naive":
        return naive_loop(**spec, progress=progress)
    raise ValueError(f"unknown measurement {kind!r}; choose one of {', '.join(KINDS)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
