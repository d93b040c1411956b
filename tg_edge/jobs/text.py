"""Plain text files read in bounded blocks, so a file of any size (even one line of 200 MB) is translated and
written a block at a time, its first sentences soon after the start, in memory that does not grow with the file."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from .. import formats
from ..errors import InputError
from ..fileio import check_not_binary, decode_utf8, write_stdout
from ..filetypes import HEAD_BYTES, refuse_unreadable
from .journal import AppendedOutput

if TYPE_CHECKING:
    from .filejob import FileJob

log = logging.getLogger("tg_edge")

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


def translate_text_file(job: FileJob, path: Path, out: Path | None, stdout: TextIO | None) -> None:
    """A plain text file translated a block at a time (see :func:`text_blocks`) into ``out`` (through a partial
    file and a journal), or onto ``stdout``: memory stays bounded whatever the length of a line, and the first
    sentences are out soon after the start."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with block below
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        refuse_unreadable(path, head)  # a Parquet file or a PDF read as text: say what to do, not "binary"
    except InputError:
        handle.close()
        raise
    fingerprint = job.fingerprint("txt", str(path.resolve()), str(size))
    output = AppendedOutput(out, fingerprint, resume=job.options.resume) if out is not None else None
    position = output.position if output is not None else {}
    start, line = int(position.get("in", 0)), int(position.get("line", 1))  # type: ignore[call-overload]
    source = job.options.source  # ``auto``: detected on the first block with text, kept for the rest
    with handle, output or nullcontext(), job.bar(size, path.name, "B", initial=start) as bar:
        bar.unit_scale = True
        unfinished = job.unfinished(output, path, start, size, "bytes")
        handle.seek(start)
        blocks = text_blocks(handle, str(path), job.options.chunk_chars, first_line=line)
        for block in _discarding_on_bad_input(blocks, output):
            document = formats.read(block.text, str(path), "txt")
            step = block.size // max(1, len(document.segments))

            def moved(count: int, step: int = step) -> None:
                bar.update(count * step)

            result = job.translate(
                [document],
                source=source,
                on_chunk=lambda indices, _, new: job.count(len(indices), new),
                on_segment=moved,
            )[0]
            source = result.source if document.segments else source
            job.report.segments += len(document.segments)
            for i, flag in result.flags:
                job.flag(str(path), block.line + document.segments[i].line - 1, flag)
            start, line = start + block.size, block.line + block.text.count("\n")
            if output is not None:
                output.append(str(result.rendered).encode("utf-8"), **{"in": start, "line": line})
            else:
                write_stdout(str(result.rendered), stdout)
            unfinished.kept = start
            bar.update(start - bar.n)
            log.info("%s: %d of %d bytes translated", path.name, start, size)
        if output is not None:
            output.finish()
    if out is not None:
        job.written(out)


def _discarding_on_bad_input(
    blocks: Iterator[TextBlock], output: AppendedOutput | None
) -> Iterator[TextBlock]:
    """``blocks``; a bad one (invalid UTF-8, a NUL byte) discards the output's partial file and journal first."""
    try:
        yield from blocks
    except InputError:
        if output is not None:
            output.discard()
        raise
