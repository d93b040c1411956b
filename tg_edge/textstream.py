"""Plain text read in bounded blocks, so a file of any size (even one line of 200 MB) is translated and written a
block at a time, its first sentences soon after the start, in memory that does not grow with the file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .fileio import check_not_binary, decode_utf8

BLOCK_BYTES = 12_000
"""Bytes of text read and translated together (about 150 sentences; the same bound as a document chunk)."""
FIRST_BLOCK_BYTES = 1_500
"""The first block's bound (about 20 sentences): the first translations are out soon after the start."""
# Where a block may end, best first: after a line; after a sentence; after a space; after any whole character.
_LINE_ENDS = (b"\n",)
_SENTENCE_ENDS = (b". ", b"? ", b"! ", "。".encode(), "！".encode(), "？".encode())
_SPACES = (b" ", b"\t")


@dataclass(frozen=True)
class TextBlock:
    """A run of the input: its text, its size in bytes and the number of the line it starts in."""

    text: str
    size: int
    line: int


def text_blocks(
    handle: BinaryIO,
    name: str,
    size: int = BLOCK_BYTES,
    *,
    first_line: int = 1,
    first_size: int = FIRST_BLOCK_BYTES,
) -> Iterator[TextBlock]:
    """The rest of ``handle`` as blocks whose texts add up to the input exactly: the first of at most
    ``first_size`` bytes (its translation is out soon), each next one twice as large, up to ``size``.

    A block ends after its last line break; a line longer than a block is cut after a sentence, else after a
    space, else between two characters. Holds at most one block's bytes beyond the one it yields. A NUL byte or
    bad UTF-8 is an :class:`~tg_edge.errors.InputError` naming the line (``first_line`` numbers the first)."""
    pending = b""
    line = first_line
    ended = False
    bound = min(size, first_size)
    while pending or not ended:
        while len(pending) < bound and not ended:
            data = handle.read(bound - len(pending))
            ended = not data
            pending += data
        if not pending:
            return
        cut = len(pending) if ended and len(pending) <= bound else _cut(pending[:bound])
        block, pending = pending[:cut], pending[cut:]
        check_not_binary(block, name, first_line=line)
        yield TextBlock(decode_utf8(block, name, first_line=line), len(block), line)
        line += block.count(b"\n")
        bound = min(size, 2 * bound)


def _cut(data: bytes) -> int:
    """Where a full block of ``data`` ends (see :func:`text_blocks`)."""
    for marks in (_LINE_ENDS, _SENTENCE_ENDS, _SPACES):
        end = max((data.rfind(mark) + len(mark) for mark in marks if data.rfind(mark) >= 0), default=0)
        if end:
            return end
    cut = len(data) - 1
    while cut > 0 and data[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: not where a character starts
        cut -= 1
    return cut or len(data)
