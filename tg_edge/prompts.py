"""Prompt profiles: how one unit of text becomes a prompt for one family of models.

- ``translategemma``: TranslateGemma's chat template (from the GGUF, or the published one).
- ``chat``: any instruct model's own chat template with a translation instruction.
- ``fewshot``: base models (such as the demo Gemma 3 270M): example pairs, one line out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import gguf_keys
from .errors import PromptError
from .fewshot_examples import EXAMPLES, RETRY_EXAMPLES
from .languages import Language, base_code

log = logging.getLogger("tg_edge")

TRANSLATEGEMMA = "translategemma"
CHAT = "chat"
FEWSHOT = "fewshot"
PROFILES = (TRANSLATEGEMMA, CHAT, FEWSHOT)

CHAT_TEMPLATE_KEY = gguf_keys.CHAT_TEMPLATE
# Only TranslateGemma's template reads language codes out of the message content.
_TRANSLATEGEMMA_MARKER = "source_lang_code"


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: its text (special markers included) and how to decode after it."""

    text: str
    stop_at_newline: bool = False


def detect_profile(metadata: Mapping[str, str]) -> str:
    """Pick the profile a GGUF needs from its metadata (``tg_edge.prompt_profile`` wins when set)."""
    recorded = metadata.get(gguf_keys.PROMPT_PROFILE)
    if recorded in PROFILES:
        return recorded
    template = metadata.get(CHAT_TEMPLATE_KEY, "")
    name = " ".join(metadata.get(key, "") for key in (gguf_keys.NAME, gguf_keys.BASENAME)).lower()
    if _TRANSLATEGEMMA_MARKER in template or (not template and "translategemma" in name):
        return TRANSLATEGEMMA
    if template:
        return CHAT
    return FEWSHOT


def make_profile(name: str, metadata: Mapping[str, str], *, bos_token: str, eos_token: str) -> PromptProfile:
    """Build profile ``name`` for a model with this metadata and these BOS/EOS token texts."""
    template = metadata.get(CHAT_TEMPLATE_KEY) or None
    if name == TRANSLATEGEMMA:
        return TranslateGemmaProfile(template, bos_token=bos_token, eos_token=eos_token)
    if name == CHAT:
        if template is None:
            raise PromptError(
                "the chat profile needs a chat template, and this GGUF has none "
                f"(no {CHAT_TEMPLATE_KEY}); use --prompt-profile fewshot or translategemma"
            )
        return ChatProfile(template, bos_token=bos_token, eos_token=eos_token)
    if name == FEWSHOT:
        return FewShotProfile()
    raise PromptError(f"unknown prompt profile {name!r}; choose one of {', '.join(PROFILES)}")


class PromptProfile:
    """Renders a unit of text to translate into a prompt."""

    name: str
    any_language = True
    """Whether any BCP-47 language may be asked for (``resolve_language(any_language=...)``), not only TranslateGemma's table."""
    alternates = False
    """Whether ``render(..., again=True)`` gives a different prompt, for a retry that must not repeat itself."""
    reads_images = False
    """Whether :meth:`render_image` renders a prompt for the text in an image."""

    def render(self, text: str, source: Language, target: Language, *, again: bool = False) -> Prompt:
        """The prompt for ``text``; ``again``: the retry prompt (the same one where a profile has none)."""
        raise NotImplementedError

    def render_image(self, source: Language, target: Language, *, marker: str | None = None) -> Prompt:
        """The prompt for translating the text in an image, ``marker`` (default :data:`IMAGE_MARKER`) where the
        image goes (profiles whose
        ``reads_images`` is true)."""
        raise PromptError(f"the {self.name} prompt profile has no prompt for images")


class _TemplateProfile(PromptProfile):
    """A profile that renders a Jinja chat template the way Hugging Face transformers does."""

    def __init__(self, template: str | None, *, bos_token: str, eos_token: str) -> None:
        self.template_source = template
        self.bos_token = bos_token
        self.eos_token = eos_token

    @cached_property
    def _template(self) -> jinja2.Template:
        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
        )
        env.globals["raise_exception"] = _raise_template_error
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            return env.from_string(self.template_source or "")
        except jinja2.TemplateError as exc:
            raise PromptError(f"the model's chat template is not valid Jinja: {exc}") from exc

    def render_messages(self, messages: list[dict[str, object]]) -> str:
        try:
            return self._template.render(
                messages=messages,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                add_generation_prompt=True,
            )
        except jinja2.TemplateError as exc:
            raise PromptError(f"the model's chat template failed to render: {exc}") from exc


def _raise_template_error(message: str) -> None:
    raise PromptError(f"the model's chat template refused the prompt: {message}")


class TranslateGemmaProfile(_TemplateProfile):
    """TranslateGemma's own chat template: one user turn whose content carries the language codes."""

    name = TRANSLATEGEMMA
    any_language = False  # the template refuses codes outside its own table
    reads_images = True

    def render(self, text: str, source: Language, target: Language, *, again: bool = False) -> Prompt:
        if self.template_source is None:
            return Prompt(render_translategemma(text, source, target, bos_token=self.bos_token))
        content = [
            {"type": "text", "source_lang_code": source.code, "target_lang_code": target.code, "text": text}
        ]
        return Prompt(self.render_messages([{"role": "user", "content": content}]))

    def render_image(self, source: Language, target: Language, *, marker: str | None = None) -> Prompt:
        if self.template_source is None:
            text = render_translategemma_image(source, target, bos_token=self.bos_token)
        else:
            content = [{"type": "image", "source_lang_code": source.code, "target_lang_code": target.code}]
            text = self.render_messages([{"role": "user", "content": content}])
        if text.count(IMAGE_START) != 1:
            raise PromptError(f"the model's chat template puts no single {IMAGE_START} in an image prompt")
        # Gemma 3's processor expands the template's <start_of_image> to "\n\n<start_of_image>", the image's
        # soft tokens, "<end_of_image>\n\n"; llama.cpp's mtmd adds the begin/end tokens around the image itself.
        return Prompt(text.replace(IMAGE_START, f"\n\n{marker or IMAGE_MARKER}\n\n"))


IMAGE_START = "<start_of_image>"
IMAGE_MARKER = "<__media__>"
"""Where the image goes in a rendered image prompt (llama.cpp mtmd's default media marker)."""


def render_translategemma(text: str, source: Language, target: Language, *, bos_token: str = "<bos>") -> str:
    """TranslateGemma's published chat template, written out in Python for GGUFs that lack it."""
    return (
        f"{bos_token}<start_of_turn>user\n"
        f"You are a professional {source.name} ({source.code}) to {target.name} ({target.code}) translator. "
        f"Your goal is to accurately convey the meaning and nuances of the original {source.name} text "
        f"while adhering to {target.name} grammar, vocabulary, and cultural sensitivities.\n"
        f"Produce only the {target.name} translation, without any additional explanations or commentary. "
        f"Please translate the following {source.name} text into {target.name}:\n\n\n"
        f"{text.strip()}<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def render_translategemma_image(source: Language, target: Language, *, bos_token: str = "<bos>") -> str:
    """TranslateGemma's published chat template for an image, written out in Python for GGUFs that lack it."""
    return (
        f"{bos_token}<start_of_turn>user\n"
        f"You are a professional {source.name} ({source.code}) to {target.name} ({target.code}) translator. "
        f"Your goal is to accurately convey the meaning and nuances of the original {source.name} text "
        f"while adhering to {target.name} grammar, vocabulary, and cultural sensitivities.\n"
        f"Please translate the {source.name} text in the provided image into {target.name}. "
        f"Produce only the {target.name} translation, without any additional explanations, alternatives or "
        "commentary. Focus only on the text, do not output where the text is located, surrounding objects or any "
        "other explanation about the picture. Ignore symbols, pictogram, and arrows!\n\n\n"
        f"{IMAGE_START}<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


class ChatProfile(_TemplateProfile):
    """An instruct model's chat template with a plain translation instruction as the user turn."""

    name = CHAT

    def render(self, text: str, source: Language, target: Language, *, again: bool = False) -> Prompt:
        instruction = (
            f"Translate the following {source.name} text into {target.name}. "
            f"Reply with the {target.name} translation only, without explanations or notes.\n\n{text}"
        )
        return Prompt(self.render_messages([{"role": "user", "content": instruction}]))


class FewShotProfile(PromptProfile):
    """Example pairs for base models: ``English: ...`` / ``German: ...`` lines; the answer is one line.

    ``again=True`` shows longer example sentences (:data:`RETRY_EXAMPLES`) where both languages have them,
    else the usual ones in reverse order: a model that copied a long sentence gets a prompt that differs."""

    name = FEWSHOT
    alternates = True

    def render(self, text: str, source: Language, target: Language, *, again: bool = False) -> Prompt:
        src_examples = _examples_for(source)
        tgt_examples = _examples_for(target)
        if again:
            src_retry, tgt_retry = (
                _examples_for(source, RETRY_EXAMPLES),
                _examples_for(target, RETRY_EXAMPLES),
            )
            if src_retry and tgt_retry:
                src_examples, tgt_examples = src_retry, tgt_retry
            else:
                src_examples, tgt_examples = src_examples[::-1], tgt_examples[::-1]
        blocks = [f"Translate from {source.name} to {target.name}."]
        if src_examples and tgt_examples:
            blocks += [
                f"{source.name}: {src}\n{target.name}: {tgt}"
                for src, tgt in zip(src_examples, tgt_examples, strict=False)
            ]
        else:
            log.warning(
                "no few-shot examples for %s; the demo prompt works best between languages it has examples for",
                source.name if not src_examples else target.name,
            )
        blocks.append(f"{source.name}: {text}\n{target.name}:")
        return Prompt("\n\n".join(blocks), stop_at_newline=True)


def _examples_for(language: Language, examples: Mapping[str, tuple[str, ...]] = EXAMPLES) -> tuple[str, ...]:
    code = language.code
    if code.startswith("zh"):
        code = "zh-Hant" if code.startswith("zh-Hant") or code in ("zh-TW",) else "zh-Hans"
    elif code in ("nb", "nn"):
        code = "no"
    return examples.get(code) or examples.get(base_code(code), ())
