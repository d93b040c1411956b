"""SubRip subtitles: numbers and timestamps stay byte for byte; each cue's text is translated.

A cue's lines are translated together and written back on as many lines; a cue whose lines
start with a dash (two speakers) keeps one line per speaker. Tags such as ``<i>`` and
``{\\an8}`` stay where they are.
"""

from __future__ import annotations

import re

from ..errors import InputError
from . import Builder, Document, Limits
from .cues import add_cue_text, split_lines

_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->\s*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}")


def read(text: str, name: str, *, limits: Limits | None = None) -> Document:
    builder = Builder(limits=limits, name=name)
    lines = split_lines(text)
    i = 0
    while i < len(lines):
        body, end = lines[i]
        if not body.strip().lstrip("\ufeff"):
            builder.keep(body + end)
            i += 1
            continue
        if not body.strip().lstrip("\ufeff").isdigit():
            raise InputError(f"{name}, line {i + 1}: expected a subtitle number, found {body.strip()[:40]!r}")
        builder.keep(body + end)
        i += 1
        if i >= len(lines) or not _TIMING.match(lines[i][0]):
            found = lines[i][0].strip()[:40] if i < len(lines) else "the end of the file"
            raise InputError(
                f"{name}, line {i + 1}: expected a timing line such as "
                f"'00:00:01,000 --> 00:00:02,500', found {found!r}"
            )
        builder.keep("".join(lines[i]))
        i += 1
        cue = []
        while i < len(lines) and lines[i][0].strip():
            cue.append(lines[i])
            i += 1
        add_cue_text(builder, cue)
    return builder.finish()
