"""`tg-edge doctor`, `--gpu-layers auto`, the fit marks of `models list` and `models pull FAMILY` on this machine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tg_edge.doctor import cpu_features
from tg_edge.engine import Engine, on_own_thread
from tg_edge.fit import Context, placement, size_from_header
from tg_edge.gguf_header import read_header
from tg_edge.machine import default_threads, devices, gpu_available, machine, system_info
from tg_edge.models import CATALOG, home_dir
from tg_edge.models.demo import demo_file_name
from tg_edge.models.fits import resolve_gpu_layers
from tg_edge.speed import SpeedFacts, estimate_decode, record_bandwidth

from .conftest import run_cli, spawn_cli
from .hub import HubFile, LocalHub, tiny_gguf
from .test_models_hub import hub_env

BANDWIDTH = 20e9
needs_gpu = pytest.mark.skipif(not gpu_available(), reason="this llama.cpp build has no GPU backend")
cpu_build = pytest.mark.skipif(gpu_available(), reason="this llama.cpp build has a GPU backend")


@pytest.fixture
def demo_installed(demo_model: Path, isolated_home: Path) -> Path:
    """The demo model in tg-edge's own directory, as `tg-edge` assembles it on first use."""
    target = isolated_home / "tg-edge" / "models" / demo_file_name()
    target.parent.mkdir(parents=True)
    target.symlink_to(demo_model)
    record_bandwidth(machine(), home_dir(), BANDWIDTH)  # this machine's speed given, not measured
    return target


def test_doctor_json_reports_the_build_the_machine_and_what_fits(demo_installed: Path) -> None:
    result = run_cli("doctor", "--json")
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    build = report["llama_cpp"]
    assert build["loaded"] and build["gpu_offload"] == gpu_available() and "CPU" in build["backends"]
    assert build["cpu_features"] == cpu_features(system_info())
    assert report["cpu"]["threads"] == default_threads() and report["memory"]["ram_total"] > 0
    assert [m["name"] for m in report["store"]["installed"]] == ["gemma-3-270m"]

    fit = report["fit"]
    assert (fit["n_ctx"], fit["parallel"]) == (4096, 16)
    rows = {(m["name"], m["quant"]): m for m in fit["models"]}
    assert set(rows) == {(e.name, q) for e in CATALOG for q in e.quants} | {("gemma-3-270m", "Q4_K_M")}
    demo = rows["gemma-3-270m", "Q4_K_M"]  # from the file's own header, not an estimate
    expected = placement(size_from_header(read_header(demo_installed)), Context(), demo["gpu_layers"])
    assert not demo["estimated"] and (demo["ram_bytes"], demo["gpu_bytes"]) == (
        expected.ram_bytes,
        expected.vram_bytes,
    )
    speed = estimate_decode(
        size_from_header(read_header(demo_installed)), expected, SpeedFacts(BANDWIDTH, default_threads())
    )
    assert report["cpu"]["memory_bandwidth"] == BANDWIDTH
    assert (demo["tokens_per_s"], demo["seconds_per_sentence"]) == (
        speed.tokens_per_s,
        speed.seconds_per_sentence,
    )
    for row in fit["models"]:
        if not gpu_available():
            assert row["how"] == ("cpu" if row["fits"] else None) and row["gpu_bytes"] == 0
            assert row["fits"] == (row["ram_bytes"] <= fit["usable_ram"])
    assert all(
        rows[name, "Q4_K_M"]["ram_bytes"] < rows[name, "Q8_0"]["ram_bytes"]
        for name in ("translategemma-4b", "translategemma-12b", "translategemma-27b")
    )
    assert (
        rows["translategemma-4b", "Q4_K_M"]["ram_bytes"] < rows["translategemma-27b", "Q4_K_M"]["ram_bytes"]
    )


def test_doctor_text(demo_installed: Path) -> None:
    result = run_cli("doctor")
    assert result.returncode == 0 and result.stderr == b""
    text = result.stdout.decode()
    for heading in (
        "llama.cpp build",
        "CPU\n",
        "Memory",
        "Model store",
        "Which models fit (context 4096 tokens",
    ):
        assert heading in text
    assert f"CPU features: {' '.join(cpu_features(system_info()))}" in text
    assert f"tg-edge uses {default_threads()} thread" in text
    assert f"this process may use {default_threads()} of " in text and "memory bandwidth: 20.0 GB/s" in text
    assert "TOK/S  S/SENTENCE" in text
    assert f"GPU offload:  {'yes' if gpu_available() else 'no'}" in text
    for entry in CATALOG:
        assert f"\n  {entry.name} " in text
    assert "gemma-3-270m" in text and "from the file" in text and "estimate" in text


@pytest.mark.parametrize(
    ("info", "features"),
    [
        ("CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | OPENMP = 1 | ", ["SSE3", "AVX2", "OPENMP"]),
        ("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : NEON = 1 | ARM_FMA = 1 | ", ["NEON", "ARM_FMA"]),
        ("", []),
    ],
)
def test_cpu_features_from_system_info(info: str, features: list[str]) -> None:
    assert cpu_features(info) == features


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", b"'lots' is neither a number of layers nor auto"),
        ("-2", b"-2 layers: give a count, -1 for all, or auto"),
    ],
)
def test_gpu_layers_option_takes_a_count_or_auto(value: str, message: bytes) -> None:
    result = run_cli("translate", "-s", "en", "-t", "de", "--gpu-layers", value, "Hello")
    assert result.returncode == 2 and message in result.stderr


def test_explicit_gpu_layers_are_kept(demo_model: Path) -> None:
    """Kept as given where llama.cpp can offload; on a CPU-only build every count is 0 (with a warning)."""
    expected = [0, 5, -1] if gpu_available() else [0, 0, 0]
    assert [resolve_gpu_layers(n, demo_model) for n in (0, 5, -1)] == expected


@cpu_build
def test_auto_falls_back_to_the_cpu_without_a_gpu_backend(demo_model: Path) -> None:
    assert resolve_gpu_layers("auto", demo_model) == 0 and resolve_gpu_layers(None, demo_model) == 0


@pytest.mark.integration
def test_an_engine_with_auto_gpu_layers_loads_and_decodes(demo_model: Path) -> None:
    with Engine(demo_model, n_ctx=512, threads=2, gpu_layers="auto") as engine:
        assert engine.gpu_layers == (
            resolve_gpu_layers("auto", demo_model, n_ctx=512) if gpu_available() else 0
        )
        # decoded on a thread that ends: no OpenMP pool left on pytest's main thread (see on_own_thread)
        on_own_thread(engine.evaluate, engine.tokenize("Hello", add_bos=True))
        assert len(engine.greedy_tokens()) == 1


@needs_gpu
def test_auto_offloads_the_demo_model_whole_to_a_gpu_with_room(demo_model: Path) -> None:
    free = sum(d.free_bytes for d in devices() if d.is_gpu)
    size = size_from_header(read_header(demo_model))
    if free < placement(size, Context(n_seq=2), -1).vram_bytes + 2**30:
        pytest.skip("the GPU has too little free memory for the demo model")
    assert resolve_gpu_layers("auto", demo_model, n_seq_max=2) == -1


def test_models_list_marks_the_quants_that_fit() -> None:
    record_bandwidth(machine(), home_dir(), BANDWIDTH)  # this machine's speed given, not measured
    listed = run_cli("models", "list", "--json")
    assert listed.returncode == 0
    catalog = {entry["name"]: entry for entry in json.loads(listed.stdout)["catalog"]}
    for entry in catalog.values():
        assert set(entry["fits"]) <= set(entry["quants"])
    if catalog["translategemma-27b"]["fits"]:  # what fits the 27B fits the 4B
        assert catalog["translategemma-4b"]["fits"] == catalog["translategemma-4b"]["quants"]
    text = run_cli("models", "list").stdout.decode()
    assert "FITS HERE" in text


def test_pull_a_family_picks_the_largest_that_fits_and_says_why(isolated_home: Path) -> None:
    record_bandwidth(machine(), home_dir(), 20e9)  # this machine's speed given, not measured
    hub = LocalHub().start()
    try:
        sizes = {"4b": 4, "12b": 12, "27b": 27}
        for size in sizes:
            hub.repos[f"mradermacher/translategemma-{size}-it-GGUF"] = {
                f"translategemma-{size}-it.Q4_K_M.gguf": HubFile(data=tiny_gguf(15)),
                f"translategemma-{size}-it.Q8_0.gguf": HubFile(data=tiny_gguf(7)),
            }
        pulled = spawn_cli("models", "pull", "--quiet", "translategemma", env=hub_env(hub, isolated_home))
    finally:
        hub.stop()
    stderr = pulled.stderr.decode()
    assert pulled.returncode == 0, stderr
    picked = stderr.split("Picked translategemma-", 1)[1].split(":", 1)[0]
    assert picked in sizes
    # the largest that fits and is fast enough, or the fastest where none is (test_speed.py tells which when)
    assert re.search(
        r", the (largest translategemma model that fits this machine and decodes 5 tok/s or faster"
        r"|fastest translategemma model that fits this machine, though none decodes 5 tok/s here): ",
        stderr,
    )
    assert re.search(r"about \d+\.\d tok/s, \d+\.\d s per sentence", stderr)
    path = Path(pulled.stdout.decode().strip())
    assert path.name == f"translategemma-{picked}-it.Q4_K_M.gguf"
    if picked != "27b":
        assert "would need" in stderr or "would decode at about" in stderr  # why not the next larger one
