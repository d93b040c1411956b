"""The decoding threads follow the machine's load: samples of CPU time decide, never the wall clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tg_edge.thread_control import CpuSample, ThreadController, read_cpu_sample


class Machine:
    """CPU time as a fake machine accrues it: ``others`` CPUs busy with other work, ``own`` with ours."""

    def __init__(self) -> None:
        self.at = self.busy = self.own = 0.0

    def run(self, seconds: float, *, others: float, own: float) -> CpuSample:
        self.at += seconds
        self.busy += (others + own) * seconds
        self.own += own * seconds
        return CpuSample(self.busy, self.own, self.at)


def controller(most: int, patience: int = 2) -> tuple[ThreadController, Machine]:
    machine = Machine()
    control = ThreadController(most, sample=lambda: None, patience=patience)
    control.observe(CpuSample(0.0, 0.0, 0.0))
    return control, machine


def test_a_quiet_machine_keeps_every_cpu() -> None:
    control, machine = controller(4)
    for _ in range(10):
        control.observe(machine.run(0.5, others=0.1, own=4.0))
    assert control.current == 4 and control.changes == 0


def test_a_busy_process_takes_a_core_and_gives_it_back() -> None:
    control, machine = controller(2)
    control.observe(machine.run(0.5, others=0.7, own=1.3))
    assert control.current == 2  # one sample is a spike, not a load
    control.observe(machine.run(0.5, others=0.7, own=1.3))
    assert control.current == 1
    for _ in range(5):  # with one thread the other process gets its whole core: no way back yet
        control.observe(machine.run(0.5, others=1.0, own=1.0))
    assert control.current == 1
    control.observe(machine.run(0.5, others=0.0, own=1.0))
    control.observe(machine.run(0.5, others=0.0, own=1.0))
    assert control.current == 2 and control.changes == 2


def test_short_spikes_move_nothing() -> None:
    control, machine = controller(2)
    for _ in range(6):
        control.observe(machine.run(0.5, others=1.0, own=1.0))
        control.observe(machine.run(0.5, others=0.0, own=2.0))
    assert control.changes == 0


@pytest.mark.parametrize(("others", "threads"), [(0.0, 4), (0.3, 4), (0.5, 3), (1.0, 3), (2.5, 1), (9.0, 1)])
def test_the_count_left_is_what_other_processes_leave(others: float, threads: int) -> None:
    control, machine = controller(4, patience=1)
    control.observe(machine.run(1.0, others=others, own=4.0 - min(others, 3.0)))
    assert control.current == threads


def test_one_cpu_is_never_measured() -> None:
    calls = []
    control = ThreadController(1, sample=lambda: calls.append(1))
    assert control.threads() == 1 and calls == []


def test_cpu_times_come_from_proc_stat_for_the_usable_cpus_only(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  900 0 900 900 0 0 0 0 0 0\n"
        "cpu0 100 10 50 1000 30 5 5 20 0 0\n"
        "cpu1 700 0 700 0 0 0 0 0 0 0\n"
        "intr 1 2 3\n"
    )
    sample = read_cpu_sample({0}, str(stat))
    assert sample is not None
    ticks = 100 + 10 + 50 + 5 + 5 + 20  # everything but idle and iowait, steal included
    assert sample.busy * os.sysconf("SC_CLK_TCK") == pytest.approx(ticks)
    assert read_cpu_sample({0}, str(tmp_path / "missing")) is None


def _greedy(engine: object, prompt: str, steps: int) -> list[int]:
    """``steps`` greedy tokens after ``prompt``, one decode each, from an empty cache."""
    from tg_edge.engine import BatchToken

    engine.reset()
    tokens = engine.tokenize(prompt, add_bos=True)
    engine.evaluate(tokens)
    out: list[int] = []
    for _ in range(steps):
        out.append(engine.greedy_tokens()[-1])
        engine.decode([BatchToken(out[-1], len(tokens) + len(out) - 1, (0,), True)])
    return out


@pytest.mark.integration
def test_an_engine_following_the_load_backs_off_beside_a_busy_process_with_the_same_tokens(
    demo_model: Path,
) -> None:
    """No thread count given: a process that keeps a core busy takes a decoding thread away within a bounded
    number of steps, and the tokens are those of a fixed count on a quiet machine."""
    import subprocess
    import sys

    from tg_edge.engine import Engine, on_own_thread
    from tg_edge.machine import usable_cpus

    if usable_cpus().usable < 2:
        pytest.skip("one usable CPU: there is no thread to give back")
    prompt = "The committee said on Monday that the new bridge would open"
    with Engine(demo_model, n_ctx=1024, threads=usable_cpus().usable) as fixed:
        expected = on_own_thread(_greedy, fixed, prompt, 40)
    with Engine(demo_model, n_ctx=1024) as engine:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            for _ in range(100):  # each round 41 decodes; the controller needs two samples 0.5 s apart
                got = on_own_thread(_greedy, engine, prompt, 40)
                assert got == expected
                if engine.threads < usable_cpus().usable:
                    break
        finally:
            busy.kill()
            busy.wait()
        assert engine.threads < usable_cpus().usable
        assert engine.thread_steps[engine.threads] > 0
