"""WebVTT subtitles: the header, NOTE, STYLE and REGION blocks, cue identifiers, timings and cue
settings stay byte for byte; cue text is translated like SubRip's (tags and entities kept)."""

from __future__ import annotations

from ..errors import InputError
from . import Builder, Document, Limits
from .cues import add_cue_text, split_lines


def read(text: str, name: str, *, limits: Limits | None = None) -> Document:
    builder = Builder(limits=limits, name=name)
    lines = split_lines(text)
    if not lines or not lines[0][0].lstrip("\ufeff").startswith("WEBVTT"):
        raise InputError(f"{name}, line 1: a WebVTT file starts with 'WEBVTT'")
    i = 0
    while i < len(lines):
        if not lines[i][0].strip():
            builder.keep("".join(lines[i]))
            i += 1
            continue
        block_start = i
        block = []
        while i < len(lines) and lines[i][0].strip():
            block.append(lines[i])
            i += 1
        first = block[0][0]
        timing = next((n for n, (body, _) in enumerate(block[:2]) if "-->" in body), None)
        if block_start == 0 or first.startswith(("NOTE", "STYLE", "REGION")) or timing is None:
            if timing is None and block_start != 0 and not first.startswith(("NOTE", "STYLE", "REGION")):
                raise InputError(
                    f"{name}, line {block_start + 1}: expected a cue timing such as "
                    f"'00:01.000 --> 00:02.500', found {first.strip()[:40]!r}"
                )
            builder.keep("".join(body + end for body, end in block))
            continue
        builder.keep("".join(body + end for body, end in block[: timing + 1]))
        add_cue_text(builder, block[timing + 1 :], unescape=True)
    return builder.finish()
