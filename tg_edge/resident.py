"""Weights resident once, where llama.cpp repacks them.

On CPUs where llama.cpp repacks Q4_K/Q4_0 weights for its AVX2/AVX-512 (or NEON) kernels, it copies each
such tensor from the mapped GGUF into a ``CPU_REPACK`` buffer and never reads the mapped pages again; they
stay resident all the same. TranslateGemma 4B's shape at Q4_K_M on a 2-core AMD EPYC: 2,390 MiB of the file
mapped beside 2,087 MiB repacked and KV, a peak RSS of 4,477 MiB; loading without mmap holds 3,030 MiB but
takes twice as long. :class:`PageReleaser` keeps mmap's speed and drops the mapped pages as the load goes
(``madvise(MADV_DONTNEED)`` on the file's mappings every 2% of the load): a page that is still needed (a tensor
used in place, or one not repacked yet) comes back from the page cache on its next read, so only the repacked
tensors' pages stay out. Peak 3,033 MiB, load time within noise of mmap's. Where llama.cpp repacks nothing (no
``CPU_REPACK`` buffer in its load log: the Xeon with AMX, where tg-edge turns the extra buffers off, or a GPU
load) nothing is released. Linux only (``/proc/self/maps``); elsewhere nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import sys
from pathlib import Path

log = logging.getLogger(__name__)

BUFFER_LINE = re.compile(r"\b(\S+) model buffer size =\s*([\d.]+) MiB")
"""llama.cpp's load log line naming one weight buffer and its size."""
REPACK_BUFFER = "CPU_REPACK"
_MADV_DONTNEED = 4  # Linux
_STEP = 0.02  # of the load between two releases


def weight_buffers(log_lines: list[str]) -> dict[str, int]:
    """Bytes of each weight buffer a model load's log names (``CPU_Mapped``, ``CPU_REPACK``, ``CUDA0``…)."""
    buffers: dict[str, int] = {}
    for line in log_lines:
        match = BUFFER_LINE.search(line)
        if match:
            buffers[match.group(1)] = buffers.get(match.group(1), 0) + round(float(match.group(2)) * 2**20)
    return buffers


def mapped_ranges(path: Path, maps: str = "/proc/self/maps") -> list[tuple[int, int]]:
    """(address, length) of each of this process's mappings of ``path``; [] where the maps cannot be read."""
    target = os.path.realpath(path)
    ranges = []
    try:
        with open(maps, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].rstrip("\n") == target:
                    start, end = (int(address, 16) for address in fields[0].split("-"))
                    ranges.append((start, end - start))
    except OSError:
        return []
    return ranges


class PageReleaser:
    """Drops ``path``'s mapped pages from this process during and after a load that repacks weights.

    ``notes`` is the load's log so far (appended to by whoever routes llama.cpp's log); once it names a
    ``CPU_REPACK`` buffer, :meth:`on_progress` (llama.cpp's progress callback) releases the mapping every 2%.
    """

    def __init__(self, path: Path, notes: list[str]) -> None:
        self.path = path
        self.notes = notes
        self.released = 0
        self._next = 0.0
        self._read = 0  # lines of ``notes`` looked at
        self._repacking = False
        self._madvise = _libc_madvise()

    @property
    def repacking(self) -> bool:
        """Whether the load's log so far names a ``CPU_REPACK`` buffer (lines read once each: the progress
        callback asks at every step of the load)."""
        if not self._repacking and self._madvise is not None:
            new, self._read = self.notes[self._read :], len(self.notes)
            self._repacking = REPACK_BUFFER in weight_buffers(new)
        return self._repacking

    def on_progress(self, progress: float) -> None:
        if progress >= self._next and self.repacking:
            self._next = progress + _STEP
            self.release()

    def release(self) -> None:
        """Drop every mapped page of the file from this process (the page cache keeps them)."""
        if self._madvise is None:
            return
        for start, length in mapped_ranges(self.path):
            if self._madvise(ctypes.c_void_p(start), ctypes.c_size_t(length), _MADV_DONTNEED) == 0:
                self.released += 1


def _libc_madvise() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]  # ctypes' private base type
    if not sys.platform.startswith("linux"):
        return None
    try:
        madvise = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise
