"""Translating the text in an image: the profile's image prompt, embedded by the vision projector into a
sequence of its own, then decoded by the scheduler like any prompt."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from . import guards
from .errors import ImagesUnsupported, TgEdgeError
from .guards import SegmentResult
from .images import ImageLike, RgbImage, read_image
from .languages import Language
from .results import ImageTranslation, check_strict, log_problems

if TYPE_CHECKING:
    from .options import TranslationOptions
    from .projector import ImagePrompt
    from .runtime import Runtime

IMAGE_MAX_TOKENS = 2048
"""The most tokens the translation of one image's text may take (TranslateGemma's own context is 2K)."""


def refuse_without_image_prompt(runtime: Runtime) -> None:
    """:class:`ImagesUnsupported` unless the model's prompt profile has a prompt for images."""
    if not runtime.prompts.reads_images:
        raise ImagesUnsupported(
            f"{runtime.model_path.name} cannot read images: the {runtime.profile} prompt profile has no prompt for "
            "images; image translation needs a TranslateGemma model (prompt profile translategemma) with its "
            "vision projector (tg-edge models pull translategemma-4b fetches both)"
        )


def image_prompt(runtime: Runtime, image: ImageLike, source: Language, target: Language) -> ImagePrompt:
    """The chunks (text token ids, the image's tokens) the model gets for ``image``; close it after use."""
    text = runtime.prompts.render_image(source, target).text
    return runtime.projector().tokenize(text, read_image(image))


def translate_image(
    runtime: Runtime, picture: RgbImage, source: Language, target: Language, options: TranslationOptions
) -> ImageTranslation:
    """Translate the text in ``picture``; the output is checked (see :func:`tg_edge.guards.check_image`)."""
    prompt = image_prompt(runtime, picture, source, target)
    started = time.perf_counter()
    try:
        most = min(runtime.engine.n_ctx - prompt.n_pos, IMAGE_MAX_TOKENS)
        if most < 1:
            raise TgEdgeError(
                f"the image prompt takes {prompt.n_pos} positions, more than the context of "
                f"{runtime.engine.n_ctx} tokens; use a larger --ctx"
            )
        projector = runtime.projector()
        generation = runtime.scheduler.submit_prefilled(
            lambda seq: projector.evaluate(prompt, seq=seq), prompt.n_pos, max_tokens=most
        ).result()
    finally:
        prompt.close()
    segment = SegmentResult.from_generation("", generation)
    segment = replace(
        segment,
        problem=guards.check_image(
            segment.text, segment.stop, target=target, language=options.check_language
        ),
    )
    translation = ImageTranslation(
        text=segment.text,
        source=source,
        target=target,
        profile=runtime.profile,
        options=options,
        segments=(segment,),
        seconds=time.perf_counter() - started,
        image=picture.name,
        image_tokens=prompt.image_tokens,
        image_seconds=generation.prompt_s,
    )
    log_problems([translation])
    check_strict([translation], options)
    return translation
