"""This machine as far as fitting models goes: RAM, the GPU backends llama.cpp was built with, the GPUs' memory."""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .fit import GIB, Budget

# ggml's GPU backend libraries (libggml-cuda.so, libggml-metal.dylib, ggml-vulkan.dll ...) and their names.
GPU_BACKENDS = {
    "cuda": "CUDA",
    "metal": "Metal",
    "vulkan": "Vulkan",
    "hip": "ROCm",
    "sycl": "SYCL",
    "opencl": "OpenCL",
    "musa": "MUSA",
    "cann": "CANN",
}
_BACKEND_LIBRARY = re.compile(r"(?:lib)?ggml-([a-z]+)\.(?:so|dylib|dll)", re.IGNORECASE)


@dataclass(frozen=True)
class Gpu:
    """A GPU llama.cpp can offload to, with its memory as the backend reports it."""

    name: str
    description: str
    backend: str
    free_bytes: int
    total_bytes: int
    kind: str = "GPU"
    """``GPU``, or ``iGPU`` for an integrated one that shares the RAM."""

    @property
    def unified(self) -> bool:
        """Its memory is the RAM: an integrated GPU, or Apple silicon's (Metal)."""
        return self.kind == "iGPU" or self.backend == "Metal"


@dataclass(frozen=True)
class Machine:
    """RAM, the GPU backends of the llama.cpp build, and the GPUs (known only when llama.cpp was asked)."""

    ram_total: int
    ram_available: int
    backends: tuple[str, ...]
    """Every ggml backend library llama_cpp ships (``CPU``, ``CUDA`` ...), found by file name."""
    gpus: tuple[Gpu, ...] = field(default=())
    gpus_probed: bool = False

    @property
    def gpu_backend(self) -> bool:
        return any(name in GPU_BACKENDS.values() for name in self.backends)

    @property
    def budget(self) -> Budget:
        """The memory a model may take now: available RAM and the GPUs' free memory, 1 GiB of each GPU kept free."""
        return Budget(
            self.ram_available,
            sum(gpu.free_bytes for gpu in self.gpus),
            vram_headroom=GIB * max(1, len(self.gpus)),
            unified=any(gpu.unified for gpu in self.gpus),
        )


def ram() -> tuple[int, int]:
    """Total and available RAM in bytes (available: what new programs can take without swapping)."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        values = {}
        for line in meminfo.read_text().splitlines():
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                values[key] = int(rest.split()[0]) * 1024
        if "MemTotal" in values:
            return values["MemTotal"], values.get("MemAvailable", values.get("MemFree", values["MemTotal"]))
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0, 0
    try:
        available = page * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):  # macOS: no such figure without asking the VM system
        available = total
    return total, available


def backend_libraries() -> tuple[str, ...]:
    """The ggml backends llama-cpp-python was built with, from its library files (llama_cpp is not imported)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return ()
    lib = Path(spec.origin).parent / "lib"
    found = {
        match.group(1).lower()
        for path in (lib.iterdir() if lib.is_dir() else ())
        if (match := _BACKEND_LIBRARY.fullmatch(path.name))
    }
    names = [GPU_BACKENDS[name] for name in GPU_BACKENDS if name in found]
    return ("CPU", *names) if "cpu" in found or not names else tuple(names)


def machine(*, probe_gpus: bool | None = None) -> Machine:
    """This machine now. ``probe_gpus``: ask llama.cpp for its GPUs and their memory; by default only where a
    GPU backend ships, so that on a CPU build nothing loads llama.cpp."""
    total, available = ram()
    backends = backend_libraries()
    if probe_gpus is None:
        probe_gpus = any(name in GPU_BACKENDS.values() for name in backends)
    if not probe_gpus:
        return Machine(total, available, backends)
    from .engine import devices  # loads llama.cpp

    gpus = tuple(
        Gpu(d.name, d.description, d.backend, d.free_bytes, d.total_bytes, d.kind)
        for d in devices()
        if d.is_gpu
    )
    return Machine(total, available, backends, gpus, True)
