"""What this process may use of the machine, probed in one place: CPUs (affinity and cgroup quota), RAM, the
GPU backends of the llama.cpp build and its devices. The engine's default threads and GPU layers, doctor, the
fit arithmetic and the benchmarks all read it. Nothing here loads llama.cpp until a question only the loaded
build can answer is asked (:func:`gpu_available`, :func:`system_info`, :func:`devices`)."""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .fit import GIB, Budget

CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where the cgroup hierarchies are mounted (tests point the probe at a directory of their own)."""
SELF_CGROUP = Path("/proc/self/cgroup")
"""Which cgroup this process is in, per hierarchy."""

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
class Cpus:
    """The CPUs this process may use, and what limits them."""

    logical: int
    """Logical CPUs of the machine (``os.cpu_count()``)."""
    affinity: int
    """CPUs the OS lets this process run on (its affinity mask; all of them where the OS has none)."""
    quota: float | None = None
    """CPUs' worth of time a cgroup quota allows per period (1.5: one and a half CPUs); ``None``: no quota."""
    quota_source: str = ""
    """The cgroup file that sets the quota."""

    @property
    def usable(self) -> int:
        """How many threads may run at once without waiting on each other: the affinity, or the quota's whole
        CPUs where that is fewer (at least 1). Rounded down: llama.cpp's threads meet at a barrier every step,
        so a thread the quota cannot run makes the others wait for it."""
        count = self.affinity if self.quota is None else min(self.affinity, int(self.quota))
        return max(1, count)

    def why(self) -> str:
        """One phrase: ``2 of 4 logical CPUs: the affinity mask allows 2, a cgroup quota of 1.5 CPUs (...)``."""
        limits = []
        if self.affinity < self.logical:
            limits.append(f"the affinity mask allows {self.affinity}")
        if self.quota is not None:
            cpus = f"{self.quota:g} CPU" + ("" if self.quota == 1 else "s")
            limits.append(f"a cgroup quota of {cpus} ({self.quota_source})")
        return f"{self.usable} of {self.logical} logical CPUs" + (
            f": {', '.join(limits)}" if limits else ": no affinity mask or CPU quota limits this process"
        )


@dataclass(frozen=True)
class Device:
    """A device llama.cpp's ggml can compute on, with its memory as the backend reports it."""

    name: str
    description: str
    kind: str
    """``CPU``, ``GPU``, ``iGPU`` (integrated, sharing RAM) or ``accelerator`` (BLAS, AMX ...)."""
    backend: str
    free_bytes: int
    total_bytes: int

    @property
    def is_gpu(self) -> bool:
        return self.kind in ("GPU", "iGPU")

    @property
    def unified(self) -> bool:
        """Its memory is the RAM: an integrated GPU, or Apple silicon's (Metal)."""
        return self.kind == "iGPU" or self.backend == "Metal"


@dataclass(frozen=True)
class Machine:
    """CPUs, RAM, the GPU backends of the llama.cpp build, and the GPUs (known only when llama.cpp was asked)."""

    cpus: Cpus
    ram_total: int
    ram_available: int
    backends: tuple[str, ...]
    """Every ggml backend library llama_cpp ships (``CPU``, ``CUDA`` ...), found by file name."""
    gpus: tuple[Device, ...] = field(default=())
    gpus_probed: bool = False
    ram_limit: str = ""
    """The cgroup file whose memory limit bounds the RAM figures (``""``: none does)."""

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


def machine(*, probe_gpus: bool | None = None) -> Machine:
    """This machine now. ``probe_gpus``: ask llama.cpp for its GPUs and their memory; by default only where a
    GPU backend ships, so that on a CPU build nothing loads llama.cpp."""
    total, available = ram()
    limit = memory_limit(CGROUP_ROOT, SELF_CGROUP)
    if limit is not None:
        total, available = min(total, limit[0]), min(available, limit[1])
    backends = backend_libraries()
    if probe_gpus is None:
        probe_gpus = any(name in GPU_BACKENDS.values() for name in backends)
    gpus: tuple[Device, ...] = ()
    if probe_gpus:
        gpus = tuple(device for device in devices() if device.is_gpu)
    return Machine(usable_cpus(), total, available, backends, gpus, probe_gpus, limit[2] if limit else "")


def default_threads() -> int:
    """tg-edge's default thread count: every CPU this process may use (decoding is memory-bound, not
    hyperthread-bound), within its affinity and cgroup CPU quota."""
    return usable_cpus().usable


def affinity_cpu_ids() -> frozenset[int]:
    """The numbers of the CPUs the OS lets this process run on (all of them where the OS keeps no mask)."""
    try:
        return frozenset(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity mask to read
        return frozenset(range(os.cpu_count() or 1))


def usable_cpus(cgroup_root: Path | None = None, self_cgroup: Path | None = None) -> Cpus:
    """The CPUs this process may use: its affinity mask and the CPU quota of its cgroup and the cgroups above
    it (cgroup v2 ``cpu.max``, cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), the tightest quota
    counting. ``cgroup_root`` and ``self_cgroup``: where the hierarchies are mounted and the file naming
    this process's cgroups [default: :data:`CGROUP_ROOT`, :data:`SELF_CGROUP`]."""
    logical = os.cpu_count() or 1
    affinity = len(affinity_cpu_ids())
    quota = cpu_quota(cgroup_root or CGROUP_ROOT, self_cgroup or SELF_CGROUP)
    if quota is None:
        return Cpus(logical, max(1, affinity))
    return Cpus(logical, max(1, affinity), quota[0], quota[1])


def cpu_quota(cgroup_root: Path, self_cgroup: Path) -> tuple[float, str] | None:
    """The tightest CPU quota over this process's cgroups, in CPUs, and the file that sets it; ``None``: none."""
    v2, v1 = _cgroup_dirs(cgroup_root, self_cgroup, "cpu", ("cpu,cpuacct", "cpu", "cpuacct,cpu"))
    quotas = [
        quota
        for quota in [_cpu_max(directory / "cpu.max") for directory in v2] + [_cfs_quota(d) for d in v1]
        if quota is not None
    ]
    return min(quotas) if quotas else None


def memory_limit(cgroup_root: Path, self_cgroup: Path) -> tuple[int, int, str] | None:
    """The tightest cgroup memory limit over this process's cgroups (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``): the limit, what is left of it (the limit less the cgroup's usage, reclaimable
    file pages not counted), and the file that sets it; ``None``: no limit."""
    v2, v1 = _cgroup_dirs(cgroup_root, self_cgroup, "memory", ("memory",))
    found = [_memory(d, "memory.max", "memory.current", "inactive_file") for d in v2] + [
        _memory(d, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file") for d in v1
    ]
    limits = [item for item in found if item is not None]
    if not limits:
        return None
    return min(limit for limit, _, _ in limits), min(left for _, left, _ in limits), min(limits)[2]


def _cgroup_dirs(
    cgroup_root: Path, self_cgroup: Path, controller: str, v1_mounts: tuple[str, ...]
) -> tuple[list[Path], list[Path]]:
    """The directories of this process's cgroup and those above it: in the cgroup v2 hierarchy, and in the
    cgroup v1 hierarchy of ``controller`` (mounted at one of ``v1_mounts``)."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    paths = {}  # hierarchy's controllers ("" for cgroup v2) -> this process's cgroup in it
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths[parts[1]] = parts[2]
    v2 = _ancestors(cgroup_root, paths.get("", "/"))
    v1_path = next((path for names, path in paths.items() if controller in names.split(",")), "/")
    mount = next((cgroup_root / name for name in v1_mounts if (cgroup_root / name).is_dir()), None)
    return v2, _ancestors(mount, v1_path) if mount is not None else []


def _memory(
    directory: Path, limit_file: str, usage_file: str, inactive_key: str
) -> tuple[int, int, str] | None:
    """A cgroup's memory limit, what is left of it, and the limit's file; ``None`` where it sets none."""
    try:
        text = (directory / limit_file).read_text().strip()
    except OSError:
        return None
    if text == "max" or not text.isdigit() or int(text) >= 2**62:  # v1 writes "no limit" as about 2**63
        return None
    limit = int(text)
    try:
        used = int((directory / usage_file).read_text())
    except (OSError, ValueError):
        return limit, limit, str(directory / limit_file)
    try:
        stat = dict(
            line.split() for line in (directory / "memory.stat").read_text().splitlines() if " " in line
        )
        used -= int(stat.get(inactive_key, 0))
    except (OSError, ValueError):
        pass
    return limit, max(0, limit - used), str(directory / limit_file)


def _ancestors(mount: Path, cgroup: str) -> list[Path]:
    """``mount``'s directory for ``cgroup`` and every one above it up to ``mount``; just ``mount`` where that
    directory is not there (a container whose cgroup namespace shows its own cgroup as the root)."""
    directory = mount / cgroup.strip("/")
    if not directory.is_dir():
        return [mount]
    out = [directory]
    while directory != mount and mount in directory.parents:
        directory = directory.parent
        out.append(directory)
    return out


def _cpu_max(path: Path) -> tuple[float, str] | None:
    """cgroup v2's ``cpu.max``: ``QUOTA PERIOD`` in microseconds, or ``max PERIOD`` for none."""
    try:
        quota, period = path.read_text().split()[:2]
        return (int(quota) / int(period), str(path)) if quota != "max" and int(period) > 0 else None
    except (OSError, ValueError):
        return None


def _cfs_quota(directory: Path) -> tuple[float, str] | None:
    """cgroup v1's ``cpu.cfs_quota_us`` (-1: none) over ``cpu.cfs_period_us``."""
    try:
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return (quota / period, str(directory / "cpu.cfs_quota_us")) if quota > 0 and period > 0 else None


def ram() -> tuple[int, int]:
    """The machine's total and available RAM in bytes (available: what new programs can take without swapping);
    :func:`machine` bounds them by a cgroup memory limit."""
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


def cpu_model() -> str:
    """The CPU's marketing name where the OS tells it, else the architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    if sys.platform == "darwin" and shutil.which("sysctl"):
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return platform.processor() or platform.machine()


# -- what the loaded llama.cpp build tells (these load llama.cpp) ----------------------------------------------


def gpu_available() -> bool:
    """True when this llama.cpp build has a GPU backend (CUDA, Metal, Vulkan, ...)."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def system_info() -> str:
    """llama.cpp's own summary of its build: each backend and the CPU features it uses (``AVX2 = 1 | ...``)."""
    import llama_cpp

    return llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()


@functools.cache
def cpu_has_amx() -> bool:
    """True when this llama.cpp build uses the CPU's AMX units."""
    return "AMX_INT8 = 1" in system_info()


_DEVICE_KINDS = ("CPU", "GPU", "iGPU", "accelerator")  # enum ggml_backend_dev_type


def devices() -> list[Device]:
    """The devices of this llama.cpp build (ggml's backend device API: llama-cpp-python 0.3.36 does not bind
    it, so it is called in the ggml library llama_cpp loaded); ``[]`` where that library lacks it."""
    lib = _ggml_device_api()
    if lib is None:
        return []
    out = []
    for index in range(lib.ggml_backend_dev_count()):
        device = lib.ggml_backend_dev_get(index)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(device, ctypes.byref(free), ctypes.byref(total))
        kind = lib.ggml_backend_dev_type(device)
        out.append(
            Device(
                name=(lib.ggml_backend_dev_name(device) or b"").decode("utf-8", "replace"),
                description=(lib.ggml_backend_dev_description(device) or b"").decode("utf-8", "replace"),
                kind=_DEVICE_KINDS[kind] if 0 <= kind < len(_DEVICE_KINDS) else f"type {kind}",
                backend=(lib.ggml_backend_reg_name(lib.ggml_backend_dev_backend_reg(device)) or b"").decode(),
                free_bytes=free.value,
                total_bytes=total.value,
            )
        )
    return out


@functools.cache
def _ggml_device_api() -> ctypes.CDLL | None:
    try:
        from llama_cpp._ggml import libggml as lib
    except (ImportError, OSError):
        return None
    pointer, text = ctypes.c_void_p, ctypes.c_char_p
    signatures = {
        "ggml_backend_dev_count": ([], ctypes.c_size_t),
        "ggml_backend_dev_get": ([ctypes.c_size_t], pointer),
        "ggml_backend_dev_name": ([pointer], text),
        "ggml_backend_dev_description": ([pointer], text),
        "ggml_backend_dev_type": ([pointer], ctypes.c_int),
        "ggml_backend_dev_memory": (
            [pointer, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)],
            None,
        ),
        "ggml_backend_dev_backend_reg": ([pointer], pointer),
        "ggml_backend_reg_name": ([pointer], text),
    }
    try:
        for name, (argtypes, restype) in signatures.items():
            function = getattr(lib, name)
            function.argtypes, function.restype = argtypes, restype
    except AttributeError:
        return None
    return lib
