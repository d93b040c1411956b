"""Decode speed estimated from the machine (bandwidth and usable CPUs, given here, never this machine's) and the
file: the arithmetic, the bandwidth kept once measured, `models list`, and picking a family's model by it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tg_edge.fit import GIB, Budget, estimate_size, placement
from tg_edge.machine import machine
from tg_edge.models import home_dir
from tg_edge.models.catalog import GEMMA3_4B, catalog_entry
from tg_edge.models.fits import catalog_fits, default_context, pick_largest
from tg_edge.speed import (
    SENTENCE_TOKENS,
    SpeedFacts,
    estimate_decode,
    record_bandwidth,
    speed_facts,
)

from .conftest import run_cli

LAPTOP = SpeedFacts(bandwidth=20e9, cpus=2)  # a 2-core VM: the 4B Q4_K_M decodes about 4 tok/s there
WORKSTATION = SpeedFacts(bandwidth=100e9, cpus=16)
CTX = default_context(gpu=False)


def speed_of(quant: str, facts: SpeedFacts, gpu_layers: int = 0, *, unified: bool = False):
    entry = catalog_entry("translategemma-4b")
    size = estimate_size(GEMMA3_4B, int(entry.size_gb * 1e9 * (8.5 / 4.89 if quant == "Q8_0" else 1)))
    return estimate_decode(size, placement(size, CTX, gpu_layers), facts, unified=unified)


def test_two_cores_are_bound_by_arithmetic_and_more_cores_by_memory() -> None:
    few = speed_of("Q4_K_M", LAPTOP)
    assert (
        few.bound == "compute" and 3.5 < few.tokens_per_s < 5
    )  # measured: 4.34 tok/s (benchmarks/README.md)
    assert speed_of("Q4_K_M", replace(LAPTOP, bandwidth=40e9)) == few  # more bandwidth does not help
    many = speed_of("Q4_K_M", replace(LAPTOP, cpus=16))
    assert many.bound == "memory" and many.tokens_per_s > few.tokens_per_s
    assert speed_of("Q4_K_M", replace(LAPTOP, cpus=32)) == many  # more cores do not help then
    # memory-bound, a file 8.5/4.89 times larger decodes that much slower
    q8 = speed_of("Q8_0", replace(LAPTOP, cpus=32))
    assert q8.tokens_per_s == pytest.approx(many.tokens_per_s * 4.89 / 8.5)
    assert few.seconds_per_sentence == SENTENCE_TOKENS / few.tokens_per_s
    assert (
        few.describe()
        == f"{few.tokens_per_s:.1f} tok/s, {SENTENCE_TOKENS / few.tokens_per_s:.1f} s per sentence"
    )


def test_layers_on_a_gpu_decode_faster_and_unified_memory_at_the_ram_s_speed() -> None:
    cpu = speed_of("Q4_K_M", LAPTOP)
    gpu = speed_of("Q4_K_M", LAPTOP, gpu_layers=-1)
    assert gpu.bound == "gpu" and gpu.tokens_per_s > 5 * cpu.tokens_per_s
    part = speed_of("Q4_K_M", LAPTOP, gpu_layers=17)
    assert cpu.tokens_per_s < part.tokens_per_s < gpu.tokens_per_s
    unified = speed_of("Q4_K_M", LAPTOP, gpu_layers=-1, unified=True)
    assert cpu.tokens_per_s < unified.tokens_per_s < gpu.tokens_per_s


@pytest.mark.parametrize(
    ("ram_gib", "facts", "min_speed", "picked", "why", "next_one"),
    [
        (
            24,
            LAPTOP,
            5.0,
            "translategemma-4b:Q4_K_M",
            "the fastest translategemma model that fits this machine, though none decodes 5 tok/s here",
            "translategemma-12b:Q4_K_M fits but would decode at about 1.4 tok/s",
        ),
        (
            24,
            LAPTOP,
            1.0,
            "translategemma-12b:Q4_K_M",
            "the largest translategemma model that fits this machine and decodes 1 tok/s or faster",
            "translategemma-27b:Q4_K_M fits but would decode at about 0.6 tok/s",
        ),
        (
            24,
            WORKSTATION,
            5.0,
            "translategemma-12b:Q4_K_M",
            "the largest translategemma model that fits this machine and decodes 5 tok/s or faster",
            "translategemma-27b:Q4_K_M fits but would decode at about 4.2 tok/s",
        ),
        (
            12,
            WORKSTATION,
            5.0,
            "translategemma-12b:Q4_K_M",
            "the largest translategemma model that fits this machine and decodes 5 tok/s or faster",
            "translategemma-27b:Q4_K_M would need 17.9 GiB RAM",
        ),
    ],
)
def test_a_family_s_pick_fits_and_decodes_at_a_usable_speed(
    ram_gib: int, facts: SpeedFacts, min_speed: float, picked: str, why: str, next_one: str
) -> None:
    said: list[str] = []
    chosen = pick_largest(
        "translategemma", None, Budget(ram_gib * GIB), CTX, facts=facts, min_speed=min_speed, say=said.append
    )
    assert chosen.name == picked and said[-1].startswith(f"Picked {picked}, {why}: CPU only, ")
    assert f", about {chosen.speed.describe()}; {next_one}" in said[-1]


def test_the_bandwidth_is_measured_once_and_kept(isolated_home) -> None:
    here = machine()
    record_bandwidth(here, home_dir(), 123e9)
    assert speed_facts(here, home_dir()) == SpeedFacts(123e9, here.cpus.usable)
    # a record from another machine (another CPU count) is measured again, and the new figure kept
    other = replace(here, cpus=replace(here.cpus, affinity=here.cpus.affinity + 1))
    record_bandwidth(other, home_dir(), 123e9)
    measured = speed_facts(here, home_dir())
    assert measured.bandwidth > 0 and measured != SpeedFacts(123e9, here.cpus.usable)
    assert speed_facts(here, home_dir()) == measured
    assert (
        json.loads((home_dir() / "machine.json").read_text())["bandwidth_bytes_per_s"] == measured.bandwidth
    )


def test_models_list_shows_the_estimated_speed(isolated_home) -> None:
    here = machine()
    record_bandwidth(here, home_dir(), 20e9)
    listed = json.loads(run_cli("models", "list", "--json").stdout)
    catalog = {entry["name"]: entry for entry in listed["catalog"]}
    expected = {
        item.quant: item.speed
        for item in catalog_fits(
            here.budget,
            default_context(gpu=bool(here.gpus)),
            facts=SpeedFacts(20e9, here.cpus.usable),
            entries=[catalog_entry("translategemma-4b")],
        )
        if item.fit.fits
    }
    speeds = catalog["translategemma-4b"]["speed"]
    assert set(speeds) == set(catalog["translategemma-4b"]["fits"]) == set(expected)
    for quant, speed in expected.items():
        assert speeds[quant]["tokens_per_s"] == speed.tokens_per_s
        assert speeds[quant]["seconds_per_sentence"] == speed.seconds_per_sentence
    text = run_cli("models", "list").stdout.decode()
    assert "SPEED HERE" in text and f"  {expected['Q4_K_M'].describe()}  " in text
