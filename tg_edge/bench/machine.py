"""The machine a benchmark ran on, and how much memory a process used."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..machine import cpu_model, machine

_PACKAGES = ("llama_cpp_python", "numpy", "sacrebleu", "matplotlib")


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, GPU and the versions of everything that shapes the figures (from tg-edge's one probe
    of the machine, :mod:`tg_edge.machine`)."""
    here = machine()
    return {
        "cpu": cpu_model(),
        "logical_cpus": here.cpus.logical,
        "usable_cpus": here.cpus.usable,
        "cpus_why": here.cpus.why(),
        "memory_bytes": here.ram_total,
        "gpus": [f"{gpu.description or gpu.name} ({gpu.total_bytes / 2**30:.1f} GiB)" for gpu in here.gpus],
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {"tg_edge": __version__, **{name: _version(name) for name in _PACKAGES}},
    }


def peak_rss_bytes() -> int | None:
    """This process's peak resident memory so far, mmap'd file pages included (None where unknown).

    Linux's VmHWM starts afresh at exec; ``ru_maxrss`` would carry the parent's peak into a child.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # macOS counts bytes


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
