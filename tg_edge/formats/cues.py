"""What SubRip and WebVTT share: lines with their endings, and a cue's text with its tags kept."""

from __future__ import annotations

import html
import re

from . import Builder

_LINES = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")
# <i>, </i>, <font color="...">, <v Speaker>, <c.yellow>, <00:01.500> timestamps, {\an8} and other ASS overrides.
_TAG = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")
_DASH = re.compile(r"^(\s*(?:<[^<>\n]*>|\{\\[^{}\n]*\})*\s*-+\s*)")


def split_lines(text: str) -> list[tuple[str, str]]:
    """Lines with their own line endings (the last may have none)."""
    out = [(m.group(1), m.group(2)) for m in _LINES.finditer(text)]
    if out and out[-1] == ("", ""):
        out.pop()
    return out


def add_cue_text(builder: Builder, cue: list[tuple[str, str]], *, unescape: bool = False) -> None:
    """A cue's text lines: one segment over all lines, or one per line when the lines are speakers' turns."""
    dashes = [_DASH.match(body) for body, _ in cue]
    dialogue = len(cue) > 1 and all(dashes)
    escape, plain = (_escape, html.unescape) if unescape else (None, None)
    for n, (body, end) in enumerate(cue):
        speaker_dash = dashes[n]
        if dialogue and speaker_dash:
            dash = speaker_dash.group(1)
            builder.keep(dash)
            body = body[len(dash) :]
        pos = 0
        for tag in _TAG.finditer(body):
            builder.text(body[pos : tag.start()], escape=escape, unescape=plain)
            builder.keep(tag.group())
            pos = tag.end()
        builder.text(body[pos:], escape=escape, unescape=plain)
        last = n == len(cue) - 1
        if dialogue or last:
            builder.keep(end)
        else:
            builder.soft_break(end)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
