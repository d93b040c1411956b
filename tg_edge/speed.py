"""How fast a model decodes on this machine, estimated before it is loaded, and the memory-bandwidth probe that
estimate starts from (measured once, kept in tg-edge's home).

Decoding one token reads every weight it passes through once and multiplies by each: single-stream decode
speed is bounded by streaming the weights from memory and by the CPU's arithmetic, whichever is slower (a
roofline). Both bounds use measured figures: the machine's copy bandwidth, and the share of it and the
arithmetic rate per core llama.cpp reached in benchmarks/README.md. A seconds-per-sentence figure assumes
:data:`SENTENCE_TOKENS` decoded tokens.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from .fit import ModelSize, Placement
from .machine import Machine, cpu_model

log = logging.getLogger("tg_edge")

MIN_TOKENS_PER_S = 5.0
"""The decode speed a model picked for a family (``models pull translategemma``) should reach: a sentence in
about eight seconds, on one stream."""
SENTENCE_TOKENS = 40
"""Tokens of a translated sentence (a FLORES sentence in German is 30-50 of Gemma 3's tokens)."""
BANDWIDTH_SHARE = 0.7
"""The share of the copy bandwidth a memory-bound llama.cpp decode streams weights at (benchmarks/README.md)."""
FLOPS_PER_CORE = 17e9
"""Q4_K multiply-adds per second per core (2 FLOPs each) llama.cpp reached single-stream on a 2-vCPU AVX-512
Xeon: 4.34 tok/s x 2 x 3.9 B parameters on 2 cores (benchmarks/README.md, the 4B shape)."""
GPU_BANDWIDTH = 200e9
"""Bytes per second assumed for weights on a GPU, whose memory tg-edge does not measure: a low-end discrete
GPU's. Where the GPU shares the RAM (Apple silicon, integrated GPUs) the measured RAM bandwidth counts."""
_CACHE_FILE = "machine.json"


@dataclass(frozen=True)
class SpeedFacts:
    """What decode speed depends on here: memory bandwidth (bytes/s, copy: read + written) and usable CPUs."""

    bandwidth: float
    cpus: int


@dataclass(frozen=True)
class DecodeSpeed:
    """An estimate of single-stream decode speed, and what bounds it (``memory``, ``compute`` or ``gpu``)."""

    tokens_per_s: float
    bound: str

    @property
    def seconds_per_sentence(self) -> float:
        return SENTENCE_TOKENS / self.tokens_per_s

    def describe(self) -> str:
        """``4.4 tok/s, 9.1 s per sentence``."""
        return f"{self.tokens_per_s:.1f} tok/s, {self.seconds_per_sentence:.1f} s per sentence"


def estimate_decode(
    size: ModelSize, place: Placement, facts: SpeedFacts, *, unified: bool = False
) -> DecodeSpeed:
    """Single-stream decode speed of ``size`` placed as ``place`` on a machine of ``facts``.

    Bytes read per token: every weight, less the token embeddings where the model has a separate output matrix
    (only one embedding row is read); the arithmetic: 2 FLOPs per weight multiplied. Layers on the GPU cost
    their bytes at :data:`GPU_BANDWIDTH`, or at the RAM's where the GPU's memory is the RAM (``unified``).
    """
    read = size.weight_bytes - (0 if size.output_tied else size.other_bytes - size.output_bytes)
    split = size.n_layer - min(place.gpu_layers, size.n_layer)
    gpu_bytes = sum(size.layer_bytes[split:]) + (size.output_bytes if place.gpu_layers > size.n_layer else 0)
    cpu_bytes = max(0, read - gpu_bytes)
    memory = cpu_bytes / (BANDWIDTH_SHARE * facts.bandwidth)
    compute = (
        2 * size.params_per_token * (cpu_bytes / read if read else 0) / (FLOPS_PER_CORE * max(1, facts.cpus))
    )
    gpu = gpu_bytes / (BANDWIDTH_SHARE * facts.bandwidth if unified else GPU_BANDWIDTH)
    seconds = max(memory, compute) + gpu
    bound = "gpu" if gpu > max(memory, compute) else "memory" if memory >= compute else "compute"
    return DecodeSpeed(1 / seconds if seconds > 0 else float("inf"), bound)


def speed_facts(here: Machine, cache_dir: Path) -> SpeedFacts:
    """``here``'s :class:`SpeedFacts`: the bandwidth recorded in ``cache_dir`` when it was measured on this
    machine (same CPU model, usable CPUs and RAM), else measured now with the usable CPUs' threads (about a
    second) and recorded; a cache that cannot be written is passed over."""
    path, key = cache_dir / _CACHE_FILE, _key(here)
    try:
        record = json.loads(path.read_text())
        if record.get("key") == key:
            return SpeedFacts(float(record["bandwidth_bytes_per_s"]), here.cpus.usable)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    log.info("measuring this machine's memory bandwidth once (kept in %s)", path)
    # Two arrays of 256 MiB (more than any CPU's cache), or a quarter of the available RAM on a small machine.
    megabytes = max(16, min(256, here.ram_available // 2**23))
    measured = measure_bandwidth(here.cpus.usable, megabytes=megabytes, repeats=3)
    bandwidth = float(measured["gb_per_s"]) * 1e9  # type: ignore[arg-type]
    try:
        record_bandwidth(here, cache_dir, bandwidth, str(measured["method"]))
    except OSError as exc:
        log.info("could not keep the bandwidth in %s: %s", path, exc.strerror)
    return SpeedFacts(bandwidth, here.cpus.usable)


def record_bandwidth(here: Machine, cache_dir: Path, bandwidth: float, method: str = "given") -> Path:
    """Record ``bandwidth`` (bytes/s) as ``here``'s in ``cache_dir`` (tests inject the figure so)."""
    path = cache_dir / _CACHE_FILE
    cache_dir.mkdir(parents=True, exist_ok=True)
    record = {"key": _key(here), "bandwidth_bytes_per_s": bandwidth, "method": method}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def _key(here: Machine) -> dict[str, object]:
    """What a recorded bandwidth belongs to: another CPU, CPU count or RAM size is another machine."""
    return {"cpu": cpu_model(), "usable_cpus": here.cpus.usable, "ram_total": here.ram_total}


def measure_bandwidth(threads: int, *, megabytes: int = 256, repeats: int = 5) -> dict[str, object]:
    """STREAM-style copy of a ``megabytes`` array with 1 and with ``threads`` threads (numpy releases the GIL).

    Each thread count keeps the best of ``repeats`` passes after a warm-up pass; bytes read plus bytes
    written count, as in STREAM. ``gb_per_s`` is the best over the thread counts: the machine's limit.
    """
    import numpy as np

    source = np.ones(megabytes * 2**20 // 8)
    target = np.empty_like(source)
    by_threads = {}
    for count in sorted({1, threads}):
        edges = np.linspace(0, source.size, count + 1).astype(int)
        parts = [slice(start, end) for start, end in zip(edges[:-1], edges[1:], strict=True)]
        times = []
        with ThreadPoolExecutor(max_workers=count) as pool:
            for _ in range(repeats + 1):
                started = time.perf_counter()
                list(pool.map(lambda part: np.copyto(target[part], source[part]), parts))
                times.append(time.perf_counter() - started)
        by_threads[str(count)] = 2 * source.nbytes / min(times[1:]) / 1e9
    return {
        "gb_per_s": max(by_threads.values()),
        "gb_per_s_by_threads": by_threads,
        "method": f"numpy copy of {megabytes} MiB, bytes read + written, best of {repeats}",
    }


def as_json(speed: DecodeSpeed) -> dict[str, object]:
    """``speed`` as JSON-ready data, with seconds per sentence."""
    return {**asdict(speed), "seconds_per_sentence": speed.seconds_per_sentence}
