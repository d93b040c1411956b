"""Prompt profiles render exactly: reference strings are written out from the published templates."""

from pathlib import Path

import pytest

from tg_edge import PromptError, resolve_language
from tg_edge.prompts import (
    CHAT,
    FEWSHOT,
    TRANSLATEGEMMA,
    ChatProfile,
    FewShotProfile,
    TranslateGemmaProfile,
    detect_profile,
    make_profile,
    render_translategemma,
)

DATA = Path(__file__).parent / "data"
TRANSLATEGEMMA_TEMPLATE = (DATA / "translategemma_chat_template.jinja").read_text(encoding="utf-8")
GEMMA3_IT_TEMPLATE = (DATA / "gemma3_it_chat_template.jinja").read_text(encoding="utf-8")
CHATML_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

EN, DE = resolve_language("en"), resolve_language("de")

# Written by hand from google/translategemma-*-it's chat_template.jinja: one BOS, the user turn with the
# instruction, one newline before "Produce only", two blank lines before the trimmed text, then the model turn.
REFERENCE_EN_DE = (
    "<bos><start_of_turn>user\n"
    "You are a professional English (en) to German (de) translator. Your goal is to accurately convey the "
    "meaning and nuances of the original English text while adhering to German grammar, vocabulary, and "
    "cultural sensitivities.\n"
    "Produce only the German translation, without any additional explanations or commentary. Please translate "
    "the following English text into German:\n"
    "\n"
    "\n"
    "Where is the train station?<end_of_turn>\n"
    "<start_of_turn>model\n"
)
REFERENCE_PTBR_ZHHANT = (
    "<bos><start_of_turn>user\n"
    "You are a professional Portuguese (pt-BR) to Chinese (zh-Hant) translator. Your goal is to accurately "
    "convey the meaning and nuances of the original Portuguese text while adhering to Chinese grammar, "
    "vocabulary, and cultural sensitivities.\n"
    "Produce only the Chinese translation, without any additional explanations or commentary. Please translate "
    "the following Portuguese text into Chinese:\n"
    "\n"
    "\n"
    "Bom dia.\nTudo bem?<end_of_turn>\n"
    "<start_of_turn>model\n"
)


def published(template: str = TRANSLATEGEMMA_TEMPLATE) -> TranslateGemmaProfile:
    return TranslateGemmaProfile(template, bos_token="<bos>", eos_token="<eos>")


@pytest.mark.parametrize(
    ("text", "src", "tgt", "reference"),
    [
        ("Where is the train station?", "en", "de", REFERENCE_EN_DE),
        ("  Bom dia.\nTudo bem?\n", "pt-BR", "zh-Hant", REFERENCE_PTBR_ZHHANT),
    ],
)
def test_translategemma_matches_the_reference_both_from_the_template_and_built_in(
    text: str, src: str, tgt: str, reference: str
) -> None:
    source, target = resolve_language(src), resolve_language(tgt)
    assert published().render(text, source, target).text == reference
    assert render_translategemma(text, source, target) == reference
    assert (
        TranslateGemmaProfile(None, bos_token="<bos>", eos_token="<eos>").render(text, source, target).text
        == reference
    )


@pytest.mark.parametrize(
    ("src", "tgt"),
    [
        ("en", "de"),
        ("en-GB", "fr-CA"),
        ("zh-CN", "en"),
        ("fil", "ja-JP"),
        ("is-IS", "nb"),
        ("ar-EG", "sw-KE"),
    ],
)
@pytest.mark.parametrize("text", ["Hello", " padded \n", "Line one\n\nLine three", "{{ not jinja }} & <b>"])
def test_built_in_rendering_equals_the_published_template_for_any_pair(src: str, tgt: str, text: str) -> None:
    source, target = resolve_language(src), resolve_language(tgt)
    assert render_translategemma(text, source, target) == published().render(text, source, target).text


def test_translategemma_prompt_decodes_to_the_end_of_turn_not_a_newline() -> None:
    assert published().render("Hi", EN, DE).stop_at_newline is False


INSTRUCTION = (
    "Translate the following English text into German. Reply with the German translation only, "
    "without explanations or notes.\n\n"
)


@pytest.mark.parametrize(
    ("template", "bos", "eos", "expected"),
    [
        (
            GEMMA3_IT_TEMPLATE,
            "<bos>",
            "<eos>",
            "<bos><start_of_turn>user\n" + INSTRUCTION + "Good night.<end_of_turn>\n<start_of_turn>model\n",
        ),
        (
            CHATML_TEMPLATE,
            "<|startoftext|>",
            "<|im_end|>",
            "<|startoftext|><|im_start|>user\n"
            + INSTRUCTION
            + "Good night.<|im_end|>\n<|im_start|>assistant\n",
        ),
    ],
)
def test_chat_profile_wraps_the_instruction_in_the_models_own_template(
    template: str, bos: str, eos: str, expected: str
) -> None:
    prompt = ChatProfile(template, bos_token=bos, eos_token=eos).render("Good night.", EN, DE)
    assert prompt.text == expected


def test_fewshot_prompt_is_example_lines_and_stops_at_the_line_end() -> None:
    prompt = FewShotProfile().render("Where is the train station?", EN, DE)
    assert prompt.text == (
        "Translate from English to German.\n\n"
        "English: The weather is nice today.\nGerman: Das Wetter ist heute schön.\n\n"
        "English: Where can I buy a ticket?\nGerman: Wo kann ich eine Fahrkarte kaufen?\n\n"
        "English: Thank you very much for your help.\nGerman: Vielen Dank für Ihre Hilfe.\n\n"
        "English: Where is the train station?\nGerman:"
    )
    assert prompt.stop_at_newline


def test_fewshot_uses_base_language_examples_for_regional_codes() -> None:
    prompt = FewShotProfile().render("Hi", resolve_language("en-GB"), resolve_language("pt-BR"))
    assert "Portuguese: O tempo está bom hoje." in prompt.text


def test_fewshot_without_examples_still_asks_for_the_translation() -> None:
    prompt = FewShotProfile().render("Hi", EN, resolve_language("zu"))
    assert prompt.text == "Translate from English to Zulu.\n\nEnglish: Hi\nZulu:"


def test_chat_and_fewshot_prompts_name_a_language_beyond_translategemmas_table() -> None:
    bavarian = resolve_language("bar", any_language=True)
    fewshot = FewShotProfile().render("Hi", EN, bavarian)
    assert fewshot.text == "Translate from English to Bavarian.\n\nEnglish: Hi\nBavarian:"
    chat = ChatProfile(CHATML_TEMPLATE, bos_token="<s>", eos_token="</s>").render("Hi", EN, bavarian)
    assert (
        "Translate the following English text into Bavarian. Reply with the Bavarian translation only"
        in chat.text
    )


@pytest.mark.parametrize(
    ("metadata", "profile"),
    [
        ({"tokenizer.chat_template": TRANSLATEGEMMA_TEMPLATE}, TRANSLATEGEMMA),
        ({"tokenizer.chat_template": GEMMA3_IT_TEMPLATE, "general.name": "Gemma 3 4b It"}, CHAT),
        ({"tokenizer.chat_template": CHATML_TEMPLATE}, CHAT),
        ({"general.name": "Translategemma 4b It"}, TRANSLATEGEMMA),  # template stripped from the GGUF
        ({"general.name": "Gemma 3 270m"}, FEWSHOT),
        ({}, FEWSHOT),
    ],
)
def test_profile_is_detected_from_gguf_metadata(metadata: dict[str, str], profile: str) -> None:
    assert detect_profile(metadata) == profile


def test_chat_profile_without_a_template_is_a_clear_error() -> None:
    with pytest.raises(PromptError, match="needs a chat template"):
        make_profile(CHAT, {}, bos_token="<bos>", eos_token="<eos>")


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(PromptError, match="unknown prompt profile 'nope'"):
        make_profile("nope", {}, bos_token="<bos>", eos_token="<eos>")


def test_broken_template_is_a_prompt_error_not_a_jinja_traceback() -> None:
    with pytest.raises(PromptError, match="not valid Jinja"):
        ChatProfile("{% for %}", bos_token="", eos_token="").render("x", EN, DE)
    with pytest.raises(PromptError, match="refused the prompt"):
        ChatProfile("{{ raise_exception('no') }}", bos_token="", eos_token="").render("x", EN, DE)


def test_template_runs_sandboxed() -> None:
    sneaky = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(PromptError):
        ChatProfile(sneaky, bos_token="", eos_token="").render("x", EN, DE)
