"""The streaming path: a call's units decoded together and printed in order as their tokens come."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import TYPE_CHECKING

from . import guards
from .guards import SegmentResult

if TYPE_CHECKING:
    from .glossary import Glossary
    from .languages import Language
    from .options import TranslationOptions
    from .segment import Piece
    from .slots import Job


def stream_units(
    pieces: Sequence[Piece],
    jobs: Sequence[Job],
    source: Language,
    target: Language,
    options: TranslationOptions,
    terms: Glossary | None,
) -> Generator[str, None, list[SegmentResult]]:
    """Yield the text of ``pieces`` in order, each translated piece as its job (submitted with ``stream=True``,
    one per translated piece) decodes it; returns the pieces' results. Printed output cannot be retried, but
    it is checked and flagged; a stream abandoned half-way cancels its jobs."""
    policy = guards.Policy(source.code, target.code, check_language=options.check_language, terms=terms)
    results: list[SegmentResult] = []
    try:
        for piece in pieces:
            if not piece.translate:
                yield piece.text
                continue
            job = jobs[len(results)]
            streamed = False
            for chunk in _trimmed(job.pieces()):
                streamed = True
                yield chunk
            result = guards.check_printed(
                piece.text, SegmentResult.from_generation(piece.text, job.result()), policy, printed=streamed
            )
            if not streamed:  # nothing came: the source text stands in
                yield result.text
            results.append(result)
    finally:
        for job in jobs:
            job.cancel()  # a stream abandoned half-way frees its sequences
    return results


def _trimmed(pieces: Iterator[str]) -> Iterator[str]:
    """Whitespace around the model's answer belongs to the skeleton: drop it at the start and hold
    it back at the end, so the streamed text equals the final (stripped) text."""
    started = False
    held = ""
    for piece in pieces:
        if not started:
            piece = piece.lstrip()
            started = bool(piece)
        body = (held + piece).rstrip()
        held = (held + piece)[len(body) :]
        if body:
            yield body
