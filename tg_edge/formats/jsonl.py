"""JSON Lines datasets: the string values at the chosen fields are translated; everything else on
each line (other fields, key order, spacing, number formats, escapes) stays byte for byte.

Fields are dotted paths: ``instruction``, ``output``, ``meta.title``, and ``*`` for every item of
a list or every key (``messages.*.content``). A value is replaced in place by its translation
as a JSON string; the rest of the line is not re-serialised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from json import decoder

from ..errors import InputError, JobOptionsError
from . import Builder, Document, Limits

# typeshed leaves scanstring out of json.decoder, where it has always been: (string, end) of a JSON string
scanstring: Callable[[str, int], tuple[str, int]] = decoder.scanstring  # type: ignore[attr-defined]

_LINES = re.compile(r"[^\n]*\n|[^\n]+")
_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:Infinity|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|NaN|true|false|null")


def parse_fields(spec: str | Sequence[str] | None) -> tuple[tuple[str, ...], ...]:
    """``"instruction,output"`` → the dotted paths to translate."""
    if spec is None:
        return ()
    items = (
        spec.split(",")
        if isinstance(spec, str)
        else [".".join(f) if isinstance(f, tuple) else f for f in spec]
    )
    fields = tuple(tuple(item.strip().split(".")) for item in items if item.strip())
    if any(not part for field in fields for part in field):
        raise InputError(
            f"bad --fields {spec!r}: give dotted field names such as instruction,output or messages.*.content"
        )
    return fields


def read(
    text: str, name: str, fields: str | Sequence[str] | None = None, *, limits: Limits | None = None
) -> Document:
    paths = require_fields(fields)
    builder = Builder(limits=limits, name=name)
    for number, line in enumerate(_LINES.findall(text), start=1):
        add_line(builder, line, name, number, paths)
    return builder.finish()


def add_line(builder: Builder, line: str, name: str, number: int, paths: tuple[tuple[str, ...], ...]) -> None:
    """One record: its chosen string values become segments, the rest is kept. Raises on a malformed line."""
    if not line.strip():
        builder.keep(line)
        return
    try:
        json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}, line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    values: list[tuple[int, int, str]] = []
    _walk(line, 0, (), paths, values)
    pos = 0
    for start, end, value in values:
        builder.keep(line[pos:start])
        builder.slot(line[start:end], value, _dump)
        pos = end
    builder.keep(line[pos:])


def require_fields(
    fields: str | Sequence[str] | None, what: str = "a JSONL file"
) -> tuple[tuple[str, ...], ...]:
    """The dotted paths of ``fields``; none is a :class:`JobOptionsError` saying that ``what`` (a JSONL file, a
    dataset) needs ``--fields``: the one check of every path that translates records."""
    paths = parse_fields(fields)
    if not paths:
        raise JobOptionsError(
            f"{what} needs --fields to say which string fields to translate, e.g. --fields instruction,output"
        )
    return paths


def _dump(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _matches(path: tuple[str, ...], paths: tuple[tuple[str, ...], ...]) -> bool:
    return any(
        len(p) == len(path) and all(a == "*" or a == b for a, b in zip(p, path, strict=True)) for p in paths
    )


def _walk(
    s: str,
    pos: int,
    path: tuple[str, ...],
    paths: tuple[tuple[str, ...], ...],
    out: list[tuple[int, int, str]],
) -> int:
    """Walk one JSON value (already known to be valid) from ``pos``; collect the chosen strings' spans."""
    pos = _space_end(s, pos)
    char = s[pos]
    if char == "{":
        pos = _space_end(s, pos + 1)
        if s[pos] == "}":
            return pos + 1
        while True:
            key, pos = scanstring(s, pos + 1)
            pos = _space_end(s, pos) + 1  # the colon
            pos = _space_end(s, _walk(s, pos, (*path, key), paths, out))
            if s[pos] == "}":
                return pos + 1
            pos = _space_end(s, pos + 1)  # the comma
    if char == "[":
        pos = _space_end(s, pos + 1)
        if s[pos] == "]":
            return pos + 1
        index = 0
        while True:
            pos = _space_end(s, _walk(s, pos, (*path, str(index)), paths, out))
            if s[pos] == "]":
                return pos + 1
            pos += 1
            index += 1
    if char == '"':
        value, end = scanstring(s, pos + 1)
        if _matches(path, paths):
            out.append((pos, end, value))
        return end
    scalar = _SCALAR.match(s, pos)
    if scalar is None:  # unreachable: the line parsed as JSON, so a scalar starts here
        raise InputError(f"not a JSON value at column {pos + 1}")
    return scalar.end()


def _space_end(s: str, pos: int) -> int:
    """Where the JSON whitespace from ``pos`` ends."""
    space = _WS.match(s, pos)
    return space.end() if space else pos
