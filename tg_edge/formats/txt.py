"""Plain text: each non-empty line is a paragraph to translate; line breaks, blank lines and indentation stay."""

from __future__ import annotations

import re

from . import Builder, Document, Limits

_LINE = re.compile(r"([ \t\f\v\ufeff]*)([^\r\n]*?)([ \t\f\v]*)(\r\n|\r|\n|$)")


def read(text: str, name: str, *, limits: Limits | None = None) -> Document:
    builder = Builder(limits=limits, name=name)
    for lead, body, trail, end in _LINE.findall(text):
        builder.keep(lead)
        if body:
            builder.slot(body, body, str)
        builder.keep(trail + end)
    return builder.finish()
