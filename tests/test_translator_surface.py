"""The Translator's public surface: no llama.cpp object leaves it, and its stats count the work it does."""

from types import MappingProxyType

import pytest

from tg_edge import Translator, TranslatorStats

SURFACE = {
    "translate",
    "translate_many",
    "translate_stream",
    "translate_documents",
    "translate_image",
    "render_prompt",
    "render_image_prompt",
    "prompt_tokens",
    "language",
    "stats",
    "close",
    "threads",
    "reads_images",
}


def test_the_public_surface_is_one_screen_and_hands_out_no_llama_cpp_object() -> None:
    public = {name for name in vars(Translator) if not name.startswith("_")}
    assert public == SURFACE
    assert not {"engine", "projector", "image_prompt"} & public


def test_stats_since_subtracts_the_counters_and_keeps_the_settings() -> None:
    settings = dict(
        threads=2, parallel=4, n_ctx=4096, n_batch=512, gpu_layers=0, kv_cache_bytes=1, logits_bytes=2
    )
    earlier = TranslatorStats(
        **settings, weight_buffers=MappingProxyType({}), decode_steps=3, tokens_generated=10, retries=1
    )
    later = TranslatorStats(
        **{**settings, "threads": 1},
        weight_buffers=MappingProxyType({}),
        decode_steps=5,
        tokens_generated=25,
        retries=1,
        peak_parallel=4,
    )
    work = later.since(earlier)
    assert (work.decode_steps, work.tokens_generated, work.retries) == (2, 15, 0)
    assert work.threads == 1 and work.n_ctx == 4096 and work.peak_parallel == 4


@pytest.mark.integration
def test_stats_count_the_work_of_a_call(translator: Translator) -> None:
    before = translator.stats
    results = translator.translate_many(
        ["Good morning.", "Where is the train station?"], source="en", target="de"
    )
    work = translator.stats.since(before)
    segments = [segment for result in results for segment in result.segments]
    assert work.decode_steps > 0 and work.batch_tokens > 0 and work.decode_seconds > 0
    assert work.tokens_generated >= sum(segment.new_tokens for segment in segments)
    assert work.prompt_tokens_evaluated + work.prompt_tokens_reused >= sum(s.prompt_tokens for s in segments)
    assert work.prompt_tokens_reused >= sum(s.reused_tokens for s in segments)
    assert work.retries >= sum(segment.attempts - 1 for segment in segments)
    assert work.threads == translator.threads and 1 <= work.peak_parallel <= work.parallel
    assert work.kv_cache_bytes > 0 and work.n_ctx >= work.n_batch
    unchanged = translator.stats
    translator.translate("Guten Tag.", source="de", target="de")  # same language: the model is not called
    assert translator.stats.since(unchanged).decode_steps == 0
