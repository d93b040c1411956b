"""``tg-edge translate`` on one text (the argument, one file or stdin): printed, streamed, as JSON, or its prompt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from ..errors import TgEdgeError, TranslationIncomplete
from ..fileio import write_stdout
from .common import dump_json, emit, loaded_translator, output_file, read_input, result_json

if TYPE_CHECKING:
    from ..languages import Language
    from ..load_options import LoadOptions
    from ..translator import Translation, TranslationOptions, Translator


def translate_text(
    text: str | None,
    input_path: Path | None,
    output_path: str | None,
    source: Language | str,
    target: Language,
    *,
    options: TranslationOptions,
    stream: bool,
    json_: bool,
    show_prompt: bool,
    load: LoadOptions,
) -> None:
    """One text through :meth:`Translator.translate` (or its stream); its suspect segments counted on stderr."""
    from ..languages import AUTO, detect_source

    content = read_input(text, input_path)
    if not content.strip("\ufeff \t\r\n\f\v"):  # nothing to translate: no model needed, whitespace as it is
        emit(content, output_path)
        return
    # a command-line argument gets a terminal-friendly newline
    content_end = "\n" if text is not None and not content.endswith("\n") and output_path is None else ""
    output_file(output_path)  # -o naming a directory is refused before a model loads
    if text is None and input_path is None:
        _hint_markdown(content)
    if source == AUTO:
        detect_source([content])  # text whose language cannot be told is refused before a model loads

    with loaded_translator(load) as translator:
        if show_prompt:
            first = next(line.strip("\ufeff \t") for line in content.splitlines() if line.strip("\ufeff \t"))
            prompt = translator.render_prompt(first, source=source, target=target)
            ending = "" if prompt.endswith("\n") else "\n"  # the shell's own prompt goes on a line of its own
            emit(prompt + ending, output_path)
            return
        try:
            if stream and output_path is None:
                events = translator.translate_stream(content, source=source, target=target, options=options)
                for piece in events:
                    write_stdout(piece)
                write_stdout(content_end)
                if events.result is None:  # set when the stream ends
                    raise TgEdgeError("the translation stream ended without a result")
                result = events.result
            else:
                result = translator.translate(content, source=source, target=target, options=options)
                _emit_translation(result, translator, json_, content_end, output_path)
        except TranslationIncomplete as exc:  # --strict: the translation still goes out, then exit 3
            if exc.translations and not stream:
                kept = cast("Translation", exc.translations[0])  # a text call's error holds its Translation
                _emit_translation(kept, translator, json_, content_end, output_path)
            raise
    if result.problems:
        click.echo(
            f"{len(result.problems)} of {len(result.segments)} segments need a look (see warnings above).",
            err=True,
        )


def _emit_translation(
    result: Translation, translator: Translator, json_: bool, content_end: str, output_path: str | None
) -> None:
    if json_:
        emit(dump_json(result_json(result, translator)), output_path)
    else:
        emit(result.text + content_end, output_path)


def _hint_markdown(content: str) -> None:
    """Plain-text stdin that looks like Markdown gets a note: code lines would be translated as prose."""
    from ..formats import looks_like_markdown

    if looks_like_markdown(content):
        click.echo(
            "Note: stdin looks like Markdown (a code block, or headings with markup) and is translated "
            "as plain text, line by line; add --format md to keep code blocks and markup as they are.",
            err=True,
        )
