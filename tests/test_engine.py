"""The llama.cpp engine and its scheduler on the real demo model: greedy, bounded, prefix-sharing, parallel."""

import ctypes
import gc
import logging
import re
import sys
import threading
from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from tg_edge import llama_model
from tg_edge.bench.flores import load_flores
from tg_edge.engine import Engine
from tg_edge.errors import ModelError, TgEdgeError
from tg_edge.llama_model import route_llama_logs
from tg_edge.scheduler import Scheduler, Stop, repeating_tail


@pytest.mark.parametrize(
    ("tokens", "loops"),
    [
        ([7] * 40, True),
        ([1, 2, 3] * 12, True),
        (list(range(10)) + [5, 6, 7, 8] * 8, True),
        ([7] * 20, False),  # too short a span to call it a loop
        ([1, 2] * 3, False),
        (list(range(100)), False),
        ([1, 2, 3] * 11 + [4], False),  # the pattern broke off: not looping now
    ],
)
def test_repeating_tail(tokens: list[int], loops: bool) -> None:
    assert repeating_tail(tokens) is loops


HEAD = (
    "Translate from English to German.\n\nEnglish: Thank you.\nGerman: Danke.\n\n"
    "English: Where is the station?\nGerman: Wo ist der Bahnhof?\n\n"
)


@pytest.fixture(scope="module")
def engine(demo_model):
    with Engine(demo_model, n_ctx=2048, threads=2, n_seq_max=9) as loaded:
        yield loaded


@pytest.fixture
def scheduler(engine):
    loaded = Scheduler(engine, parallel=8)
    yield loaded
    loaded.close()
    engine.reset()


def prompt_for(engine: Engine, sentence: str) -> list[int]:
    return engine.tokenize(f"{HEAD}English: {sentence}\nGerman:", add_bos=True)


@pytest.mark.integration
def test_greedy_decoding_is_deterministic_and_stream_matches_result(engine, scheduler) -> None:
    prompt = engine.tokenize("English: Good morning.\nFrench:", add_bos=True)
    job = scheduler.submit(prompt, max_tokens=20, stop_at_newline=True, stream=True)
    streamed = "".join(job.pieces())
    first = job.result()
    scheduler.clear_cache()
    again = scheduler.generate(prompt, max_tokens=20, stop_at_newline=True)
    assert streamed == first.text == again.text
    assert first.stop == Stop.NEWLINE and "\n" not in first.text and first.text.strip()


@pytest.mark.integration
def test_a_submissions_common_prefix_is_evaluated_once(engine, scheduler) -> None:
    prompts = [
        prompt_for(engine, s) for s in ("Good night.", "See you tomorrow.", "The weather is nice today.")
    ]
    jobs = scheduler.submit_many(prompts, max_tokens=[16] * 3, stop_at_newline=True)
    common = min(
        next(i for i, (a, b) in enumerate(zip(prompts[0], p, strict=False)) if a != b) for p in prompts[1:]
    )
    assert [job.result().n_reused for job in jobs] == [common] * 3


@pytest.mark.integration
def test_a_call_on_an_idle_engine_gives_the_same_output_whatever_ran_before(engine, scheduler) -> None:
    german = [prompt_for(engine, s) for s in ("Good night.", "See you tomorrow.", "I like coffee.")]
    french = [
        engine.tokenize(f"Translate from English to French.\n\nEnglish: {s}\nFrench:", add_bos=True)
        for s in ("Good night.", "The house is red.")
    ]

    def run(prompts: list[list[int]]) -> list[tuple[tuple[int, ...], int]]:
        jobs = scheduler.submit_many(prompts, max_tokens=[16] * len(prompts), stop_at_newline=True)
        return [(gen.tokens, gen.n_reused) for gen in (job.result() for job in jobs)]

    first = run(german)
    run(french)  # another prompt kind in between: the cache holds its prefix now
    run(german[:1])
    assert run(german) == first


@pytest.mark.integration
def test_a_job_submitted_when_another_ends_joins_the_running_batch_at_the_same_step_every_time(
    engine, scheduler
) -> None:
    """What an ``on_done`` callback submits starts while the other jobs still decode (it takes fewer steps
    than running after them), and since the decoding thread submits it, the outputs never vary."""
    sentences = (
        "Good night.",
        "The weather is nice today and tomorrow it will rain in the north.",
        "I like coffee.",
    )
    prompts = [prompt_for(engine, s) for s in sentences]
    follow_up = prompt_for(engine, "See you tomorrow.")

    def run(chained: bool) -> tuple[list[tuple[int, ...]], int]:
        scheduler.clear_cache()
        later: list = []

        def on_done(job) -> None:
            later.extend(scheduler.submit_many([follow_up], max_tokens=[16], stop_at_newline=True))

        steps = scheduler.steps
        jobs = scheduler.submit_many(
            prompts,
            max_tokens=[32] * 3,
            stop_at_newline=True,
            on_done=[on_done, None, None] if chained else None,
        )
        out = [job.result().tokens for job in jobs]
        if not chained:
            later.extend(scheduler.submit_many([follow_up], max_tokens=[16], stop_at_newline=True))
        out.append(later[0].result().tokens)
        return out, scheduler.steps - steps

    chained, chained_steps = run(True)
    assert run(True) == (chained, chained_steps)
    after, after_steps = run(False)
    assert chained_steps < after_steps
    assert chained[3] and after[3]


@pytest.mark.integration
def test_a_job_its_abandon_test_rejects_stops_there_and_the_others_go_on(engine, scheduler) -> None:
    prompts = [
        prompt_for(engine, s) for s in ("The weather is nice today and it will rain tomorrow.", "Good night.")
    ]
    seen: list[str] = []

    def three_words(text: str) -> bool:
        seen.append(text)
        return len(text.split()) >= 3

    whole, alone = (
        job.result() for job in scheduler.submit_many(prompts, max_tokens=[32, 32], stop_at_newline=True)
    )
    cut, other = (
        job.result()
        for job in scheduler.submit_many(
            prompts, max_tokens=[32, 32], stop_at_newline=True, abandon=[three_words, None]
        )
    )
    assert cut.stop == Stop.ABANDONED and len(cut.text.split()) >= 3 and cut.n_new < whole.n_new
    assert seen[-1] == cut.text and len(seen[-2].split()) < 3  # tested after each token, stopped at once
    assert whole.text.startswith(cut.text) and other.tokens == alone.tokens  # the same batch, up to the cut


@pytest.mark.integration
def test_an_idle_scheduler_lets_its_decoding_thread_end_and_starts_another_for_new_work(
    engine, scheduler
) -> None:
    """An idle Translator must not keep llama.cpp's per-thread OpenMP pool (it slows every other decoding
    thread of the process): the thread ends once idle, and the next submission is served as before."""
    prompt = prompt_for(engine, "Good night.")
    first = scheduler.generate(prompt, max_tokens=16, stop_at_newline=True)
    thread = scheduler._thread
    assert thread is not None
    thread.join(timeout=60)  # it leaves IDLE_SECONDS after its last job
    assert not thread.is_alive()
    again = scheduler.generate(prompt, max_tokens=16, stop_at_newline=True)
    assert again.tokens == first.tokens and scheduler._thread not in (None, thread)


@pytest.mark.integration
def test_token_bound_is_reported_not_hidden(engine, scheduler) -> None:
    prompt = engine.tokenize("Once upon a time", add_bos=True)
    gen = scheduler.generate(prompt, max_tokens=3)
    assert gen.stop == Stop.LENGTH and gen.n_new == 3


@pytest.mark.integration
def test_prompt_that_cannot_fit_the_context_is_refused(engine, scheduler) -> None:
    with pytest.raises(TgEdgeError, match="does not fit the context"):
        scheduler.submit([engine.bos_token] * 2000, max_tokens=100)


@pytest.mark.integration
def test_many_long_jobs_wait_for_room_in_the_cache(demo_model) -> None:
    """Each job may need 100 cells: only two fit a 256-cell cache at once, the rest wait, none fail."""
    with Engine(demo_model, n_ctx=256, threads=2, n_seq_max=5) as small:
        scheduler = Scheduler(small, parallel=4)
        try:
            prompts = [
                small.tokenize(f"Count with me: {i}, {i + 1}, {i + 2},", add_bos=True) for i in range(4)
            ]
            jobs = [scheduler.submit(p, max_tokens=100 - len(p)) for p in prompts]
            results = [job.result(timeout=600) for job in jobs]
            assert all(r.n_new > 0 for r in results)
            assert scheduler.peak_active == 2
        finally:
            scheduler.close()


@pytest.mark.integration
def test_cancelled_job_stops_and_frees_its_sequence(engine, scheduler) -> None:
    job = scheduler.submit(engine.tokenize("Once upon a time", add_bos=True), max_tokens=1000, stream=True)
    next(iter(job.pieces()))
    job.cancel()
    assert job.result(timeout=60).stop == Stop.CANCELLED
    after = scheduler.generate(engine.tokenize("Hello", add_bos=True), max_tokens=2)
    assert after.n_new == 2


@pytest.mark.integration
def test_concurrent_submitters_get_their_own_results(engine, scheduler) -> None:
    sentences = ["Good night.", "Thank you very much.", "The house is red.", "I like coffee."]
    alone = {
        s: scheduler.generate(prompt_for(engine, s), max_tokens=24, stop_at_newline=True).text
        for s in sentences
    }
    got: dict[str, str] = {}

    def worker(sentence: str) -> None:
        got[sentence] = scheduler.generate(
            prompt_for(engine, sentence), max_tokens=24, stop_at_newline=True
        ).text

    threads = [threading.Thread(target=worker, args=(s,)) for s in sentences]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(got) == set(sentences)
    # Short sentences on this model: the same words, whether decoded alone or together.
    assert sum(got[s] == alone[s] for s in sentences) >= len(sentences) - 1


@pytest.mark.integration
def test_parallel_output_equals_decoding_alone_except_at_near_ties(engine, scheduler) -> None:
    """Decoding 8 FLORES sentences together gives each the tokens it gets alone, except where the
    batched arithmetic (other matrix kernels, other summation order) flips a near-tie between the
    two most likely tokens: every difference must start at such a tie, never at a clear choice."""
    sentences = load_flores("en", 8)
    prompts = [prompt_for(engine, s) for s in sentences]
    alone = []
    for prompt in prompts:
        scheduler.clear_cache()
        alone.append(scheduler.generate(prompt, max_tokens=80, stop_at_newline=True))
    scheduler.clear_cache()
    jobs = [scheduler.submit(p, max_tokens=80, stop_at_newline=True) for p in prompts]
    together = [job.result() for job in jobs]
    assert sum(g.n_reused > 0 for g in together) >= len(prompts) - 1  # they really shared the prefix
    identical = sum(a.text == b.text for a, b in zip(alone, together, strict=False))
    assert identical >= len(prompts) // 4
    scheduler.close()
    gaps = []
    for prompt, a, b in zip(prompts, alone, together, strict=False):
        if a.text == b.text:
            continue
        ours, theirs = list(a.tokens), list(b.tokens)
        split = next(i for i, (x, y) in enumerate(zip(ours + [-1], theirs + [-2], strict=False)) if x != y)
        logits = engine.logits(prompt + ours[:split])[-1]
        top2 = np.sort(logits)[-2:]
        gaps.append((split, round(float(top2[1] - top2[0]), 3)))
    print(f"identical {identical}/{len(prompts)}; first difference (token, top-2 logit gap): {gaps}")
    assert all(gap < 1.0 for _, gap in gaps), f"a clear choice came out differently: {gaps}"


@pytest.mark.integration
def test_metadata_and_special_tokens_come_from_the_gguf(engine) -> None:
    assert engine.metadata["general.architecture"] == "gemma3"
    assert engine.token_text(engine.bos_token) == "<bos>"
    assert engine.tokenize("<start_of_turn>", special=True) != engine.tokenize(
        "<start_of_turn>", special=False
    )
    assert engine.can_share_prefix


_KV_LOG_LINE = re.compile(r"llama_kv_cache: size = +([0-9.]+) MiB")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("n_ctx", "n_seq_max", "cells", "kv_type", "value_bytes"),
    [
        (2048, 9, 2048, "f16", 2),
        (1000, 3, 1024, "f16", 2),
        (4096, 1, 4096, "f16", 2),
        (1024, 2, 1024, "q8_0", 34 / 32),
    ],
)
def test_kv_cache_bytes_is_what_llama_cpp_allocates(
    demo_model,
    caplog: pytest.LogCaptureFixture,
    n_ctx: int,
    n_seq_max: int,
    cells: int,
    kv_type: str,
    value_bytes: float,
) -> None:
    caplog.set_level(logging.DEBUG, logger="tg_edge.llama")
    with Engine(demo_model, n_ctx=n_ctx, threads=2, n_seq_max=n_seq_max, kv_type=kv_type) as engine:
        logged = [float(m.group(1)) for r in caplog.records if (m := _KV_LOG_LINE.search(r.getMessage()))]
        assert engine.n_ctx == cells  # llama.cpp pads the context to a multiple of 256 cells
    # One cache for the 15 sliding-window layers, one for the 3 global ones, both of n_ctx cells:
    # 18 layers x 1 KV head x (256 + 256) values per cell (q8_0: 32 values in 34 bytes).
    assert len(logged) == 2
    assert engine.kv_cache_bytes == cells * 18 * 512 * value_bytes
    assert engine.kv_cache_bytes == pytest.approx(sum(logged) * 2**20, abs=0.01 * 2**20)  # the log rounds


def _current_llama_log_callback() -> int | None:
    callback, user_data = llama_cpp.llama_log_callback(), ctypes.c_void_p()
    llama_cpp.llama_log_get(ctypes.byref(callback), ctypes.byref(user_data))
    return ctypes.cast(callback, ctypes.c_void_p).value


def test_llama_log_routing_is_installed_once_per_process() -> None:
    route_llama_logs()
    ours = ctypes.cast(llama_model._route_llama_log, ctypes.c_void_p).value
    assert _current_llama_log_callback() == ours
    application = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
    llama_cpp.llama_log_set(application, ctypes.c_void_p(0))
    try:
        callers = [threading.Thread(target=route_llama_logs) for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        # A callback the application set after tg-edge's is left in place.
        assert _current_llama_log_callback() == ctypes.cast(application, ctypes.c_void_p).value
    finally:
        llama_cpp.llama_log_set(llama_model._route_llama_log, ctypes.c_void_p(0))


def test_an_engine_that_fails_to_load_is_collected_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + bytes(64))
    for kwargs, error in (({"n_seq_max": 0}, TgEdgeError), ({}, ModelError)):
        try:
            Engine(corrupt, threads=1, **kwargs)
        except error:
            pass
        else:
            pytest.fail(f"Engine({kwargs}) loaded a corrupt file")
        gc.collect()
    assert unraisable == []  # no exception in __del__ / close of a half-built engine
