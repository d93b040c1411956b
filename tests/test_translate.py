"""Real translations with the demo model through the public Python API."""

from dataclasses import replace
from pathlib import Path

import pytest

from tg_edge import (
    LanguageError,
    ModelError,
    TranslationIncomplete,
    TranslationOptions,
    Translator,
    translate,
)
from tg_edge.prompts import FEWSHOT, TRANSLATEGEMMA

from .test_prompts import REFERENCE_EN_DE

pytestmark = pytest.mark.integration


def test_english_to_german_on_the_real_demo_model(translator: Translator) -> None:
    assert "Bahnhof" in translator.translate("Where is the train station?", source="en", target="de").text


def test_demo_model_uses_the_fewshot_profile(translator: Translator) -> None:
    assert translator.profile == FEWSHOT


def test_lines_blank_lines_and_indentation_come_back_exactly(translator: Translator) -> None:
    text = "Good morning.\n\n    I like apples.\n\tThe house is big.\n\n\nThank you.\n"
    result = translator.translate(text, source="en", target="de")
    out_lines, in_lines = result.text.split("\n"), text.split("\n")
    assert len(out_lines) == len(in_lines)
    for src, out in zip(in_lines, out_lines, strict=False):
        indent = src[: len(src) - len(src.lstrip())]
        assert out.startswith(indent) and (out.strip() != "") == (src.strip() != "")
    assert [s.source for s in result.segments] == [
        "Good morning.",
        "I like apples.",
        "The house is big.",
        "Thank you.",
    ]
    assert all(s.text and s.text == s.text.strip() for s in result.segments)


def test_streaming_gives_the_same_text_as_a_plain_call(translator: Translator) -> None:
    text = "The cat sleeps.\n\n  The dog runs.\n"
    stream = translator.translate_stream(text, source="en", target="fr")
    pieces = list(stream)
    assert len(pieces) > 3  # tokens arrive one by one, not as one block
    assert "".join(pieces) == stream.result.text == translator.translate(text, source="en", target="fr").text


def test_later_segments_reuse_the_prompt_prefix(translator: Translator) -> None:
    result = translator.translate("One.\nTwo.\nThree.\n", source="en", target="de")
    assert all(s.reused_tokens > 0.8 * s.prompt_tokens for s in result.segments[1:])


def test_a_cut_segment_is_reported_and_strict_makes_it_an_error(translator: Translator) -> None:
    text = "The weather is very nice in the summer."
    tight = TranslationOptions(output_ratio=0.1, output_slack=1)  # at most a token or two per line
    result = translator.translate(text, source="en", target="de", options=tight)
    assert [s.stop for s in result.segments] == ["length"]
    assert result.problems and "token limit" in result.problems[0].problem_message
    assert result.options is tight  # per-call options are echoed back; the translator's own are untouched
    assert translator.options == TranslationOptions()
    with pytest.raises(TranslationIncomplete) as raised:
        translator.translate(text, source="en", target="de", options=replace(tight, strict=True))
    assert raised.value.translations[0].text == result.text  # the complete result travels with the error


def test_long_line_is_split_within_the_budget_and_nothing_is_lost(translator: Translator) -> None:
    text = "I like tea. " * 12 + "The end."
    options = TranslationOptions(max_segment_tokens=16, unit="paragraph")
    result = translator.translate(text, source="en", target="de", options=options)
    assert all(translator._engine.count_tokens(s.source) <= 16 for s in result.segments)
    assert len(result.segments) > 1
    assert " ".join(s.source for s in result.segments) == text.strip()


def test_empty_and_blank_input_come_back_unchanged(translator: Translator) -> None:
    assert translator.translate("", source="en", target="de").text == ""
    assert translator.translate("\n  \n", source="en", target="de").text == "\n  \n"


def test_bad_languages_raise_before_any_decoding(translator: Translator) -> None:
    with pytest.raises(LanguageError, match="did you mean 'de'"):
        translator.translate("Hello", source="en", target="dee")


def test_missing_and_corrupt_models_are_model_errors(tmp_path: Path, demo_model: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        Translator(tmp_path / "missing.gguf")
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(ModelError, match="not a GGUF"):
        Translator(not_gguf)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(demo_model.read_bytes()[: 1 << 20])
    with pytest.raises(ModelError, match="corrupt, truncated"):
        Translator(truncated)


def test_default_model_is_the_demo_model_assembled_on_first_use(isolated_home: Path) -> None:
    assert "Bahnhof" in translate("Where is the train station?", source="en", target="de")
    assert (isolated_home / "tg-edge" / "models" / "gemma-3-270m-q4_k_m.gguf").is_file()


def test_translategemma_gguf_is_detected_and_fed_the_published_prompt(translategemma_copy: Path) -> None:
    with Translator(translategemma_copy, threads=2) as tg:
        assert tg.profile == TRANSLATEGEMMA
        prompt = tg.render_prompt("Where is the train station?", source="en", target="de")
        assert prompt == REFERENCE_EN_DE
        tokens = tg._runtime.prompt_tokens(
            tg._prompts.render("Where is the train station?", tg_lang("en"), tg_lang("de"))
        )
        assert tokens[0] == tg._engine.bos_token and tokens.count(tg._engine.bos_token) == 1
        assert tokens[1:4] == tg._engine.tokenize("<start_of_turn>user\n")
        result = tg.translate("Where is the train station?", source="en", target="de")
        # The 270M base model is no translator, but the path runs to a stop and reports it.
        assert result.segments[0].prompt_tokens == len(tokens)
        assert result.segments[0].stop in {"eos", "length", "loop"}


def test_a_closed_translator_refuses_instead_of_crashing(demo_model: Path) -> None:
    from tg_edge import TgEdgeError

    with Translator(demo_model, threads=2) as closed:
        pass
    with pytest.raises(TgEdgeError, match="closed"):
        closed.translate("Hello", source="en", target="de")


def tg_lang(code: str):
    from tg_edge import resolve_language

    return resolve_language(code)


def test_forcing_a_profile_the_model_cannot_use_is_a_prompt_error(demo_model: Path) -> None:
    from tg_edge import PromptError

    with pytest.raises(PromptError, match="needs a chat template"):
        Translator(demo_model, prompt_profile="chat")
    with pytest.raises(PromptError, match="unknown prompt profile"):
        Translator(demo_model, prompt_profile="nope")
