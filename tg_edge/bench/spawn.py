"""One measurement in a worker process of its own (:mod:`tg_edge.bench.worker`), started and read back; and the
progress callback every measurement takes."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import BenchError

Progress = Callable[[str], None]
"""Takes one line of progress (to stderr); measurements never print user text through it."""


def spawn(kind: str, label: str, progress: Progress, **spec: object) -> dict[str, Any]:
    """Run one measurement in ``python -m tg_edge.bench.worker`` and return its figures."""
    progress(f"  {label}: starting")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tg-edge-bench-") as tmp:
        spec_path, result_path = Path(tmp, "spec.json"), Path(tmp, "result.json")
        spec_path.write_text(json.dumps({"label": label, **spec}, ensure_ascii=False), encoding="utf-8")
        # The worker's stdout is dropped so that only the table reaches ours; progress goes to stderr.
        proc = subprocess.run(
            [sys.executable, "-m", "tg_edge.bench.worker", kind, str(spec_path), str(result_path)],
            stdout=subprocess.DEVNULL,
            check=False,
        )
        result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.is_file() else {}
    if proc.returncode != 0 or "error" in result:
        raise BenchError(
            f"{label} measurement failed: {result.get('error') or f'exit status {proc.returncode}'}"
        )
    progress(f"  {label}: done in {time.perf_counter() - started:.0f} s")
    return result
