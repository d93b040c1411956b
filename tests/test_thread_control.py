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


def _greedy_pair(engine: object, prompts: list[str], steps: int) -> list[list[int]]:
    """``steps`` greedy tokens after each prompt, the two sequences decoded together in one batch a step
    (the batched path, where a thread count could change the sums), from an empty cache."""
    from tg_edge.engine import BatchToken

    engine.reset()
    tokens = [engine.tokenize(prompt, add_bos=True) for prompt in prompts]
    batch = [
        BatchToken(t, i, (seq,), i == len(ts) - 1) for seq, ts in enumerate(tokens) for i, t in enumerate(ts)
    ]
    engine.decode(batch)
    out: list[list[int]] = [[] for _ in prompts]
    for _ in range(steps):
        for seq, token in enumerate(engine.greedy_tokens()):
            out[seq].append(token)
        engine.decode(
            [BatchToken(out[seq][-1], len(tokens[seq]) + len(out[seq]) - 1, (seq,), True) for seq in range(2)]
        )
    return out


def test_only_a_cpu_engine_with_no_thread_count_follows_the_load() -> None:
    from tg_edge.engine import follows_load, pads_single_tokens

    assert follows_load(None, 0)
    assert not follows_load(2, 0)  # a count given stays
    assert not follows_load(None, -1)  # layers on a GPU
    assert pads_single_tokens(0, "f16", None) and pads_single_tokens(0, "f16", True)
    assert not pads_single_tokens(0, "f16", False)  # no flash attention: nothing split by thread
    assert not pads_single_tokens(0, "q8_0", True)  # a quantized cache is split by rows
    assert not pads_single_tokens(-1, "f16", None)  # on a GPU


@pytest.mark.integration
def test_a_lone_token_decodes_to_the_same_logits_at_any_thread_count(demo_model: Path) -> None:
    """llama.cpp's CPU flash attention splits one query token's 512+ cache cells into a chunk per thread; the
    engine's throw-away second token keeps the bytes the same at 1 and 2 threads."""
    import numpy as np

    from tg_edge.engine import BatchToken, Engine, on_own_thread

    def lone_token_logits(threads: int) -> np.ndarray:
        with Engine(demo_model, n_ctx=1024, threads=threads, flash_attn=True) as engine:
            prompt = engine.tokenize(
                "The committee said on Monday that the bridge would open. " * 60, add_bos=True
            )
            on_own_thread(engine.evaluate, prompt[:600])
            on_own_thread(engine.decode, [BatchToken(engine.greedy_tokens()[-1], 600, (0,), True)])
            return engine.last_logits()

    assert np.array_equal(lone_token_logits(1), lone_token_logits(2))


@pytest.mark.integration
def test_an_engine_following_the_load_backs_off_beside_a_busy_process_with_the_same_tokens(
    demo_model: Path,
) -> None:
    """No thread count given: a process that keeps a core busy takes a decoding thread away within a bounded
    number of steps, and every token is the one a fixed single thread decodes on a quiet machine."""
    import subprocess
    import sys

    from tg_edge.engine import Engine, on_own_thread
    from tg_edge.machine import usable_cpus

    if usable_cpus().usable < 2:
        pytest.skip("one usable CPU: there is no thread to give back")
    prompts = [
        f"{start} the new bridge would open" for start in ("The committee said on Monday that", "Yes:")
    ]
    with Engine(demo_model, n_ctx=1024, threads=1, n_seq_max=2) as fixed:
        expected = on_own_thread(_greedy_pair, fixed, prompts, 24)
    with Engine(demo_model, n_ctx=1024, n_seq_max=2) as engine:
        assert engine.threads == usable_cpus().usable
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            for _ in range(100):  # each round 25 decodes; the controller needs two samples 0.5 s apart
                assert on_own_thread(_greedy_pair, engine, prompts, 24) == expected
                if engine.threads < usable_cpus().usable:
                    break
        finally:
            busy.kill()
            busy.wait()
        assert engine.threads < usable_cpus().usable
        assert on_own_thread(_greedy_pair, engine, prompts, 24) == expected
        assert len(engine.thread_steps) == 2  # decoded at both counts, the same tokens each time
