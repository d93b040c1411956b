"""The one probe of the machine: CPUs this process may use (affinity and cgroup CPU quotas, read from cgroup
directories the tests make), and the default thread count, doctor and the engine following it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tg_edge import machine as probe
from tg_edge.fit import GIB, MIB
from tg_edge.machine import Cpus, default_threads, usable_cpus
from tg_edge.models import home_dir
from tg_edge.speed import record_bandwidth

from .conftest import run_cli

AFFINITY = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cgroup_v2(root: Path, quotas: dict[str, str], *, member: str = "/") -> Path:
    """A cgroup v2 hierarchy under ``root``: ``cpu.max`` of each cgroup in ``quotas``; returns the file that
    names ``member`` as this process's cgroup (as /proc/self/cgroup does)."""
    for cgroup, cpu_max in quotas.items():
        directory = root / cgroup.strip("/")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cpu.max").write_text(cpu_max + "\n")
    (root / member.strip("/")).mkdir(parents=True, exist_ok=True)
    self_cgroup = root.parent / "self-cgroup"
    self_cgroup.write_text(f"0::{member}\n")
    return self_cgroup


@pytest.fixture
def one_cpu_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process under a cgroup v2 quota of one CPU (100 ms per 100 ms period), the probe pointed at it."""
    root = tmp_path / "cgroup"
    self_cgroup = cgroup_v2(root, {"/": "100000 100000"})
    monkeypatch.setattr(probe, "CGROUP_ROOT", root)
    monkeypatch.setattr(probe, "SELF_CGROUP", self_cgroup)
    return root


def test_a_quota_of_one_cpu_gives_one_thread_from_the_start(one_cpu_quota: Path) -> None:
    cpus = usable_cpus()
    assert (cpus.quota, cpus.quota_source) == (1.0, str(one_cpu_quota / "cpu.max"))
    assert cpus.usable == 1 and cpus.affinity == AFFINITY and default_threads() == 1
    assert "a cgroup quota of 1 CPU (" in cpus.why()


def test_no_quota_leaves_the_affinity(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    cpus = usable_cpus(root, cgroup_v2(root, {"/": "max 100000"}))
    assert cpus.quota is None and cpus.usable == AFFINITY
    assert usable_cpus(tmp_path / "none", tmp_path / "no-such-file").usable == AFFINITY


def test_the_tightest_quota_of_the_cgroup_and_those_above_it_counts(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    self_cgroup = cgroup_v2(
        root,
        {"/": "max 100000", "/user.slice": "250000 100000", "/user.slice/app": "150000 100000"},
        member="/user.slice/app/job",
    )
    cpus = usable_cpus(root, self_cgroup)
    assert cpus.quota == 1.5 and cpus.quota_source.endswith("user.slice/app/cpu.max")
    # Rounded down: a second thread the quota can only half run would hold the other up at every barrier.
    assert cpus.usable == 1


def test_a_container_sees_its_own_cgroup_as_the_root(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cpu.max").write_text("300000 100000\n")
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text("0::/docker/abc123\n")  # a path the container's mount does not show
    assert usable_cpus(root, self_cgroup).quota == 3.0


@pytest.mark.parametrize(("quota", "expected"), [("50000", 0.5), ("-1", None)])
def test_cgroup_v1_cfs_quota(tmp_path: Path, quota: str, expected: float | None) -> None:
    cpu = tmp_path / "cgroup" / "cpu,cpuacct"
    (cpu / "batch").mkdir(parents=True)
    (cpu / "batch" / "cpu.cfs_quota_us").write_text(quota + "\n")
    (cpu / "batch" / "cpu.cfs_period_us").write_text("100000\n")
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text("12:memory:/batch\n4:cpu,cpuacct:/batch\n0::/\n")
    cpus = usable_cpus(tmp_path / "cgroup", self_cgroup)
    assert cpus.quota == expected and cpus.usable == (1 if expected else AFFINITY)


def test_why_names_each_limit() -> None:
    assert Cpus(8, 8).why() == "8 of 8 logical CPUs: no affinity mask or CPU quota limits this process"
    assert (
        Cpus(8, 4, 2.5, "/sys/fs/cgroup/cpu.max").why()
        == "2 of 8 logical CPUs: the affinity mask allows 4, a cgroup quota of 2.5 CPUs (/sys/fs/cgroup/cpu.max)"
    )
    assert Cpus(8, 2, 0.2).usable == 1


def test_doctor_says_how_many_cpus_and_why(one_cpu_quota: Path) -> None:
    record_bandwidth(probe.machine(), home_dir(), 20e9)  # no bandwidth measured here
    report = json.loads(run_cli("doctor", "--json").stdout)
    cpu = report["cpu"]
    assert (cpu["usable_cpus"], cpu["threads"], cpu["quota_cpus"]) == (1, 1, 1.0)
    assert cpu["quota_file"] == str(one_cpu_quota / "cpu.max") and cpu["why"] == usable_cpus().why()
    text = run_cli("doctor").stdout.decode()
    assert f"this process may use 1 of {os.cpu_count()} logical CPUs" in text
    assert "tg-edge uses 1 thread (--threads to change)" in text


@pytest.mark.integration
def test_the_engine_starts_with_the_quota_s_threads(one_cpu_quota: Path, demo_model: Path) -> None:
    from tg_edge.engine import Engine

    with Engine(demo_model, n_ctx=256) as engine:
        assert engine.threads == 1
    with Engine(demo_model, n_ctx=256, threads=2) as engine:  # --threads N keeps N
        assert engine.threads == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", b"0 threads: give 1 or more, or auto"),
        ("many", b"'many' is neither a number of threads nor auto"),
    ],
)
def test_threads_option_takes_a_count_or_auto(value: str, message: bytes) -> None:
    result = run_cli("translate", "-s", "en", "-t", "de", "--threads", value, "Hello")
    assert result.returncode == 2 and message in result.stderr


@pytest.mark.integration
def test_threads_auto_on_the_command_line_follows_the_quota(one_cpu_quota: Path, demo_model: Path) -> None:
    result = run_cli(
        "translate", "-v", "-s", "en", "-t", "de", "-m", str(demo_model), "--threads", "auto", "Hi"
    )
    assert result.returncode == 0 and b"(prompt profile fewshot, 1 threads, " in result.stderr


def test_a_cgroup_memory_limit_bounds_the_ram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "cgroup"
    self_cgroup = cgroup_v2(root, {"/": "max 100000"}, member="/app")
    (root / "app" / "memory.max").write_text(f"{2 * GIB}\n")
    (root / "app" / "memory.current").write_text(f"{GIB}\n")  # of which 256 MiB reclaimable file pages
    (root / "app" / "memory.stat").write_text(f"anon 123\ninactive_file {256 * MIB}\n")
    limit = probe.memory_limit(root, self_cgroup)
    assert limit == (2 * GIB, GIB + 256 * MIB, str(root / "app" / "memory.max"))
    monkeypatch.setattr(probe, "CGROUP_ROOT", root)
    monkeypatch.setattr(probe, "SELF_CGROUP", self_cgroup)
    here = probe.machine(probe_gpus=False)
    assert here.ram_total == 2 * GIB and here.ram_available <= GIB + 256 * MIB
    assert here.ram_limit == str(root / "app" / "memory.max")
    record_bandwidth(here, home_dir(), 20e9)
    report = json.loads(run_cli("doctor", "--json").stdout)
    assert report["memory"]["ram_total"] == 2 * GIB and report["fit"]["usable_ram"] <= 3 * GIB // 4
    assert "RAM: 2.0 GiB total" in run_cli("doctor").stdout.decode()


def test_cgroup_v1_memory_limit(tmp_path: Path) -> None:
    memory = tmp_path / "cgroup" / "memory" / "job"
    memory.mkdir(parents=True)
    (memory / "memory.limit_in_bytes").write_text(f"{4 * GIB}\n")
    (memory / "memory.usage_in_bytes").write_text(f"{GIB}\n")
    (tmp_path / "cgroup" / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # none
    self_cgroup = tmp_path / "self-cgroup"
    self_cgroup.write_text("7:memory:/job\n")
    assert probe.memory_limit(tmp_path / "cgroup", self_cgroup) == (
        4 * GIB,
        3 * GIB,
        str(memory / "memory.limit_in_bytes"),
    )
    assert probe.memory_limit(tmp_path / "none", self_cgroup) is None
