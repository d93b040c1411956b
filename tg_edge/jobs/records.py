"""JSON Lines records: translated a chunk at a time at the chosen fields, the one record path of a file job
(streamed into a partial output with a journal) and of a Ray dataset job (a block at a time)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import formats
from ..documents import IN_CHUNKS, Chunking, Flag, SegmentOutcome
from ..errors import InputError
from ..fileio import check_not_binary, decode_utf8
from ..filetypes import HEAD_BYTES, refuse_unreadable
from ..formats import jsonl
from ..languages import Language
from ..translator import TranslationOptions
from .journal import AppendedOutput

if TYPE_CHECKING:
    from .filejob import FileJob

log = logging.getLogger("tg_edge")


@dataclass(frozen=True)
class RecordOutcome:
    """One JSON Lines record after translation: its rendered line, or why it was left out (``skip_bad``)."""

    line: int
    rendered: str | None
    flags: tuple[Flag, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class TranslatedRecords:
    """A chunk of JSON Lines records translated together."""

    records: list[RecordOutcome]
    source: Language | None
    """The source language used (the detected one with ``auto``); ``None`` when nothing was translated."""
    segments: int
    translated: int
    """Segments that went to the model (the rest came from the cache)."""


def translate_records(
    translator,
    raws: Sequence[bytes],
    *,
    first: int,
    name: str,
    fields: tuple[tuple[str, ...], ...],
    source: Language | str,
    target: Language | str,
    options: TranslationOptions | None = None,
    skip_bad: bool = False,
    chunking: Chunking = IN_CHUNKS,
) -> TranslatedRecords:
    """Raw JSON Lines records (``first``: the line number of the first) translated at ``fields`` as one chunk of
    one-line documents: each rendered line keeps everything else byte for byte. The one record path of file jobs
    and of the Ray dataset job (``chunking``: their sizes and cache). A malformed record raises
    :class:`InputError`, or with ``skip_bad`` comes back with its ``error`` and no rendered line."""
    records: list[tuple[int, formats.Document | str]] = []
    for number, raw in enumerate(raws, start=first):
        try:
            check_not_binary(raw, f"{name}, line {number},")
            line = decode_utf8(raw, name, first_line=number)
            builder = formats.Builder(first_line=number)
            jsonl.add_line(builder, line, name, number, fields)
        except InputError as exc:
            if not skip_bad:
                raise
            log.warning("skipped: %s", exc)
            records.append((number, str(exc)))
            continue
        records.append((number, builder.finish()))
    documents = [document for _, document in records if not isinstance(document, str)]
    segments = sum(len(document.segments) for document in documents)
    counted = [0]

    def count(indices: list[int], outcomes: list[SegmentOutcome], new: int) -> None:
        counted[0] += new

    results = iter(
        translator.translate_documents(
            documents,
            source=source,
            target=target,
            options=options,
            chunking=replace(chunking, on_chunk=count),
        )
    )
    out, used = [], None
    for number, document in records:
        if isinstance(document, str):
            out.append(RecordOutcome(number, None, error=document))
            continue
        result = next(results)
        used = result.source if segments else None  # a chunk with nothing to translate detected nothing
        out.append(RecordOutcome(number, result.rendered, tuple(flag for _, flag in result.flags)))
    return TranslatedRecords(out, used, segments, counted[0])


def translate_jsonl(job: FileJob, path: Path, out: Path) -> None:
    """A JSON Lines file streamed into ``out``: records translated, appended to a partial output and journaled
    a chunk at a time; the partial file becomes ``out`` when the last record is in."""
    options = job.options
    paths = jsonl.require_fields(options.fields)
    output = AppendedOutput(out, job.fingerprint("jsonl", str(path.resolve())), resume=options.resume)
    lines_done = int(output.position.get("lines", 0))  # type: ignore[call-overload]
    try:
        with open(path, "rb") as handle:
            refuse_unreadable(path, handle.read(HEAD_BYTES))  # a Parquet file: say --ray, not "binary"
        total = count_lines(path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    source = options.source  # ``auto``: detected on the first chunk, kept for the rest of the file
    with output, job.bar(total, path.name, "rec", initial=lines_done) as bar:
        job.report.resumed += lines_done
        unfinished = job.unfinished(output, path, lines_done, total, "records")
        for first, raws in record_chunks(path, lines_done, options.chunk_records, options.chunk_chars):
            batch = translate_records(
                job.translator,
                raws,
                first=first,
                name=str(path),
                fields=paths,
                source=source,
                target=options.target,
                options=job.decoding,
                skip_bad=options.skip_bad,
                chunking=Chunking(options.chunk_segments, options.chunk_chars, cache=job.cache),
            )
            source = batch.source or source
            job.report.segments += batch.segments
            job.count(batch.segments, batch.translated)
            rendered = []
            for record in batch.records:
                if record.rendered is None:  # left out: error says why
                    job.report.skipped.append(f"{record.error} (record left out)")
                    continue
                for flag in record.flags:
                    job.flag(str(path), record.line, flag)
                rendered.append(record.rendered)
            output.append("".join(rendered).encode("utf-8"), lines=first - 1 + len(raws))
            unfinished.kept += len(raws)
            bar.update(len(raws))
        output.finish()
    job.written(out)


def count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def record_chunks(path: Path, skip: int, most: int, chars: int) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, raw lines) after the first ``skip`` lines, at most ``most`` lines and
    about ``chars`` bytes at a time."""
    with open(path, "rb") as handle:
        chunk: list[bytes] = []
        held = 0
        first = skip + 1
        for number, raw in enumerate(handle, start=1):
            if number <= skip:
                continue
            chunk.append(raw)
            held += len(raw)
            if len(chunk) >= most or held >= chars:
                yield first, chunk
                first += len(chunk)
                chunk, held = [], 0
        if chunk:
            yield first, chunk
