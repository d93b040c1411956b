"""Threads that follow the machine's load.

llama.cpp's CPU threads meet at a barrier after every operation of a decoding step, so one thread that
another process keeps off its core stalls all of them: on 2 cores, 2 threads beside one busy process run
2.7x slower than quiet, 1 thread only 1.5x. A :class:`ThreadController` watches how much CPU time *other*
processes take on the CPUs this process may use (``/proc/stat`` less this process's own time) and gives
the decoder the CPUs they leave: it backs off when another process takes a core and returns when the core
is free. A new count must hold for ``patience`` samples in a row before it is taken, so a short spike
moves nothing. Where ``/proc/stat`` cannot be read (macOS, Windows) the count stays where it started.

llama.cpp splits each matrix product by rows between its threads, so the thread count changes the speed,
not the bytes: the output is the same at any count (checked by the reproducibility tests).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from .machine import affinity_cpu_ids

log = logging.getLogger(__name__)

# A core counts as taken once other processes use this much of it: at 0.4 of a core, the barrier waits
# already cost more than the second thread brings.
TAKEN = 0.4


@dataclass(frozen=True)
class CpuSample:
    """CPU time so far, in seconds: ``busy`` on the usable CPUs by everyone, ``own`` by this process."""

    busy: float
    own: float
    at: float


def read_cpu_sample(cpus: Collection[int], stat_path: str = "/proc/stat") -> CpuSample | None:
    """The usable CPUs' busy time from ``/proc/stat`` and this process's CPU time; None where unreadable."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = 0
    try:
        with open(stat_path, encoding="ascii") as stat:
            for line in stat:
                name, _, rest = line.partition(" ")
                if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
                    continue
                # user nice system idle iowait irq softirq steal (guest time is inside user already)
                fields = [int(field) for field in rest.split()[:8]]
                busy += sum(fields) - fields[3] - fields[4]
    except (OSError, ValueError, IndexError):
        return None
    return CpuSample(busy / tick, time.process_time(), time.monotonic())


class ThreadController:
    """The thread count for the next decoding step: at most ``most``, less what other processes take.

    ``sample`` reads the CPU times (injectable for tests); a new sample is taken once ``interval``
    seconds have passed since the last, so calling :meth:`threads` before every step costs a clock read.
    """

    def __init__(
        self,
        most: int,
        *,
        sample: Callable[[], CpuSample | None] | None = None,
        interval: float = 0.5,
        patience: int = 2,
    ) -> None:
        self.most = max(1, most)
        self.current = self.most
        self._sample = sample or functools.partial(read_cpu_sample, affinity_cpu_ids())
        self._interval = interval
        self._patience = patience
        self._last = self._sample() if self.most > 1 else None
        self._wanted = self.current
        self._seen = 0
        self.changes = 0

    def threads(self) -> int:
        """The count to decode the next step with (re-measured at most once per ``interval``)."""
        if self._last is None or time.monotonic() - self._last.at < self._interval:
            return self.current
        sample = self._sample()
        if sample is None:
            return self.current
        self.observe(sample)
        return self.current

    def observe(self, sample: CpuSample) -> None:
        """Take one sample: what other processes used since the last one decides the count wanted."""
        last, self._last = self._last, sample
        if last is None or sample.at <= last.at:
            return
        others = max(0.0, (sample.busy - last.busy) - (sample.own - last.own)) / (sample.at - last.at)
        wanted = max(1, min(self.most, self.most - int(others + 1 - TAKEN)))
        if wanted != self._wanted:
            self._wanted, self._seen = wanted, 0
        self._seen += 1
        if wanted != self.current and self._seen >= self._patience:
            log.info(
                "decoding threads %d -> %d (other processes use %.1f of %d CPUs)",
                self.current,
                wanted,
                others,
                self.most,
            )
            self.current = wanted
            self.changes += 1
