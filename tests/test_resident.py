"""Weights resident once: the mapped pages of repacked tensors leave the process, the rest stays as it was."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from tg_edge.resident import PageReleaser, mapped_ranges, weight_buffers

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps").is_file(), reason="Linux's /proc/self/smaps")

LOAD_LOG = [
    "done_getting_tensors: tensor 'token_embd.weight' (q8_0) cannot be used with preferred buffer type CPU_REPACK",
    "load_tensors:   CPU_Mapped model buffer size =   235.16 MiB",
    "load_tensors:   CPU_REPACK model buffer size =    12.66 MiB",
    "llama_kv_cache:        CPU KV buffer size =    16.00 MiB",
]


def resident_of(path: Path) -> int:
    """Bytes of ``path``'s mappings resident in this process now (from /proc/self/smaps)."""
    target, inside, total = os.path.realpath(path), False, 0
    with open("/proc/self/smaps") as lines:
        for line in lines:
            fields = line.split(maxsplit=5)
            if "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
                inside = len(fields) == 6 and fields[5].strip() == target
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1]) * 1024
    return total


def test_the_weight_buffers_are_read_from_the_load_log() -> None:
    assert weight_buffers(LOAD_LOG) == {
        "CPU_Mapped": round(235.16 * 2**20),
        "CPU_REPACK": round(12.66 * 2**20),
    }
    assert weight_buffers(["nothing here"]) == {}


def test_released_pages_leave_the_process_and_come_back_on_the_next_read(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(os.urandom(4 * 2**20))
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        first = bytes(mapped)  # every page read: resident
        assert len(mapped_ranges(path)) == 1
        assert resident_of(path) == 4 * 2**20
        releaser = PageReleaser(path, list(LOAD_LOG))
        assert releaser.repacking
        releaser.on_progress(0.5)
        assert resident_of(path) == 0 and releaser.released == 1
        assert bytes(mapped) == first  # read again: from the page cache, the same bytes
        assert resident_of(path) == 4 * 2**20


def test_a_load_that_repacks_nothing_releases_nothing(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(os.urandom(2**20))
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        bytes(mapped)
        releaser = PageReleaser(
            path, [LOAD_LOG[1]]
        )  # CPU_Mapped only: the Xeon with AMX, or nothing repackable
        for step in range(51):
            releaser.on_progress(step / 50)
        assert not releaser.repacking and releaser.released == 0
        assert resident_of(path) == 2**20


@pytest.mark.integration
def test_a_load_that_repacks_keeps_no_mapped_page_resident(demo_model: Path) -> None:
    """Where llama.cpp repacks some of the demo model's Q4_K tensors (AVX2/AVX-512 CPUs), the load ends with
    the file's pages out of the process (those still used come back on the first decode, from the page
    cache); where nothing is repacked, the weights stay mapped as before."""
    from tg_edge.engine import Engine

    with Engine(demo_model, n_ctx=512, threads=1) as engine:
        assert "CPU_Mapped" in engine.weight_buffers
        resident = resident_of(engine.path)
        if "CPU_REPACK" not in engine.weight_buffers:
            assert resident > 0
            pytest.skip("llama.cpp repacks nothing on this CPU (or tg-edge turned its extra buffers off)")
        assert resident < engine.path.stat().st_size - engine.weight_buffers["CPU_REPACK"]
        assert resident < 2**20
