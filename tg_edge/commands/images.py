"""``tg-edge translate --image FILE``: the text in images, translated, onto stdout."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import dump_json, emit, loaded_translator, result_json

if TYPE_CHECKING:
    from ..languages import Language
    from ..load_options import LoadOptions
    from ..translator import ImageTranslation, TranslationOptions, Translator


def translate_images(
    images: tuple[Path, ...],
    source: Language | str,
    target: Language,
    *,
    options: TranslationOptions,
    json_: bool,
    show_prompt: bool,
    load: LoadOptions,
) -> None:
    """Each image's translated text (under a ``==> NAME <==`` line when there are several), or --json."""
    from ..images import read_image
    from ..jobs import check_strict
    from ..languages import refuse_auto_for_images

    refuse_auto_for_images(source)
    pictures = [read_image(path) for path in images]  # every bad image is refused before a model loads
    results: list[ImageTranslation] = []
    with loaded_translator(load) as translator:
        if show_prompt:
            emit(translator.render_image_prompt(source=source, target=target) + "\n", None)
            return
        for picture in pictures:
            result = translator.translate_image(
                picture, source=source, target=target, options=replace(options, strict=False)
            )
            results.append(result)
            if not json_:
                header = f"==> {picture.name} <==\n" if len(pictures) > 1 else ""
                gap = "\n" if header and picture is not pictures[-1] else ""
                emit(f"{header}{result.text}\n{gap}", None)
        if json_:
            shown = [_image_json(result, translator) for result in results]
            emit(dump_json(shown[0] if len(shown) == 1 else shown), None)
    flagged = [r for r in results if r.problems]
    if flagged:
        click.echo(f"{len(flagged)} of {len(results)} images need a look (see warnings above).", err=True)
        check_strict(options.strict, len(flagged), f"of {len(results)} image translations are suspect")


def _image_json(result: ImageTranslation, translator: Translator) -> dict[str, object]:
    return {
        **result_json(result, translator),
        "image": result.image,
        "image_tokens": result.image_tokens,
        "image_seconds": round(result.image_seconds, 4),
    }
