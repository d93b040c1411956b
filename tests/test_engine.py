"""The llama.cpp engine on the real demo model: greedy, deterministic, bounded, prefix-reusing."""

import pytest

from tg_edge.engine import STOP_LENGTH, STOP_NEWLINE, Engine, repeating_tail


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


@pytest.fixture(scope="module")
def engine(demo_model):
    with Engine(demo_model, n_ctx=1024, threads=2) as loaded:
        yield loaded


def run(generation):
    pieces = []
    while True:
        try:
            pieces.append(next(generation))
        except StopIteration as done:
            return "".join(pieces), done.value


@pytest.mark.integration
def test_greedy_decoding_is_deterministic_and_stream_matches_result(engine: Engine) -> None:
    prompt = engine.tokenize("English: Good morning.\nFrench:", add_bos=True)
    text1, gen1 = run(engine.generate(prompt, max_tokens=20, stop_at_newline=True))
    text2, gen2 = run(engine.generate(prompt, max_tokens=20, stop_at_newline=True))
    assert text1 == gen1.text == text2 == gen2.text
    assert gen1.stop == STOP_NEWLINE and "\n" not in gen1.text and gen1.text.strip()


@pytest.mark.integration
def test_shared_prefix_is_reused_not_recomputed(engine: Engine) -> None:
    head = "Translate from English to German.\n\nEnglish: Thank you.\nGerman: Danke.\n\n"
    first = engine.tokenize(head + "English: Good night.\nGerman:", add_bos=True)
    second = engine.tokenize(head + "English: See you tomorrow.\nGerman:", add_bos=True)
    run(engine.generate(first, max_tokens=16, stop_at_newline=True))
    _, gen = run(engine.generate(second, max_tokens=16, stop_at_newline=True))
    common = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
    assert gen.n_reused == common
    # Same output as from a cold cache: reuse changes the cost, not the answer.
    engine._evaluate_prompt([engine.bos_token])  # noqa: SLF001 - evict the prefix
    cold_text, cold = run(engine.generate(second, max_tokens=16, stop_at_newline=True))
    assert cold.n_reused == 1 and cold_text == gen.text


@pytest.mark.integration
def test_token_bound_is_reported_not_hidden(engine: Engine) -> None:
    prompt = engine.tokenize("Once upon a time", add_bos=True)
    text, gen = run(engine.generate(prompt, max_tokens=3))
    assert gen.stop == STOP_LENGTH and gen.n_new == 3 and text == gen.text


@pytest.mark.integration
def test_prompt_that_cannot_fit_the_context_is_refused(engine: Engine) -> None:
    from tg_edge.errors import TgEdgeError

    with pytest.raises(TgEdgeError, match="does not fit the context"):
        run(engine.generate([engine.bos_token] * 1000, max_tokens=100))


@pytest.mark.integration
def test_metadata_and_special_tokens_come_from_the_gguf(engine: Engine) -> None:
    assert engine.metadata["general.architecture"] == "gemma3"
    assert engine.token_text(engine.bos_token) == "<bos>"
    assert engine.tokenize("<start_of_turn>", special=True) != engine.tokenize("<start_of_turn>", special=False)
