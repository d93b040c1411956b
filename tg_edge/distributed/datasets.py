"""The dataset files a Ray job reads and writes (JSON Lines, Parquet), cut into blocks of records.

A :class:`Block` is the unit of work: one actor call translates it, one shard holds its output, a
resumed job skips it when its shard is there. Each format knows four things: how to plan a file into
blocks (on the driver), how to read a run of blocks into payloads (in a Ray read task), how to
translate one payload (in an actor, through the same document path as a single-machine job) and how
to put the shards back together in order (on the driver). Nothing here imports Ray.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import formats
from ..documents import CHUNK_CHARS, CHUNK_SEGMENTS, ChunkCallback, Chunking, Flag, OutcomeCache
from ..errors import InputError
from ..formats import jsonl
from ..jobs.records import record_chunks, translate_records
from ..translator import TranslationOptions

_LINES = re.compile(rb"[^\n]*\n|[^\n]+")  # lines as a binary file gives them (FileJob's chunks)


@dataclass(frozen=True)
class Block:
    """``count`` records from record number ``first`` (JSONL: its line, 1-based; Parquet: its row, 1-based).

    ``where`` locates them in the file: JSONL (byte offset, byte length); Parquet (row group, first row in it).
    """

    index: int
    first: int
    count: int
    where: tuple[int, int]


@dataclass(frozen=True)
class Settings:
    """What every block of one job is translated with (sent to each actor once)."""

    fields: str
    source: str
    target: str
    options: TranslationOptions | None = None
    skip_bad: bool = False
    chunk_segments: int = CHUNK_SEGMENTS
    chunk_chars: int = CHUNK_CHARS
    name: str = ""
    """The input file's name, for messages."""

    def chunking(self, cache: OutcomeCache | None, on_chunk: ChunkCallback | None = None) -> Chunking:
        """A block's hold on the document call: this job's chunk sizes, the actor's cache, who counts."""
        return Chunking(self.chunk_segments, self.chunk_chars, cache=cache, on_chunk=on_chunk)


@dataclass
class BlockResult:
    """One translated block: the shard's bytes and what a report needs."""

    payload: bytes
    records: int
    segments: int = 0
    translated: int = 0
    flags: list[tuple[int, Flag]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class JsonlDataset:
    """JSON Lines: a block is a run of raw lines (FileJob's chunks), translated at ``--fields`` byte for byte."""

    name = "jsonl"
    shard_suffix = ".jsonl"

    def __init__(self, path: Path, fields: str) -> None:
        self.path = path
        self.paths = jsonl.parse_fields(fields)

    def plan(self, records: int, chars: int) -> list[Block]:
        """The file's blocks: the same chunks (by records and bytes) a single-machine job translates."""
        blocks, offset = [], 0
        for index, (first, raws) in enumerate(record_chunks(self.path, 0, records, chars)):
            size = sum(len(raw) for raw in raws)
            blocks.append(Block(index, first, len(raws), (offset, size)))
            offset += size
        return blocks

    def size(self, block: Block) -> int:
        """About how many bytes the block's payload holds."""
        return block.where[1]

    def read(self, blocks: Sequence[Block]) -> Iterator[bytes]:
        """Each block's raw lines, read with one pass over the file."""
        with open(self.path, "rb") as handle:
            for block in blocks:
                handle.seek(block.where[0])
                yield handle.read(block.where[1])

    def texts(self, payload: bytes, settings: Settings) -> list[str]:
        """The block's texts to translate (for detecting the source language); bad records are passed over."""
        texts: list[str] = []
        for number, raw in enumerate(_LINES.findall(payload), start=1):
            builder = formats.Builder()
            try:
                jsonl.add_line(builder, raw.decode("utf-8"), settings.name, number, self.paths)
            except (InputError, UnicodeDecodeError):
                continue
            texts.extend(segment.text for segment in builder.finish().segments)
        return texts

    def translate(
        self,
        translator,
        block: Block,
        payload: bytes,
        settings: Settings,
        cache: OutcomeCache | None,
    ) -> BlockResult:
        batch = translate_records(
            translator,
            _LINES.findall(payload),
            first=block.first,
            name=settings.name,
            fields=self.paths,
            source=settings.source,
            target=settings.target,
            options=settings.options,
            skip_bad=settings.skip_bad,
            chunking=settings.chunking(cache),
        )
        result = BlockResult(b"", block.count, batch.segments, batch.translated)
        out = []
        for record in batch.records:
            if record.rendered is None:  # left out: error says why
                result.skipped.append(f"{record.error} (record left out)")
                continue
            result.flags.extend((record.line, flag) for flag in record.flags)
            out.append(record.rendered.encode("utf-8"))
        result.payload = b"".join(out)
        return result

    def assemble(self, shards: Sequence[Path], out: Path) -> None:
        """The shards' bytes one after the other into ``out`` (a partial file, then renamed by the caller)."""
        with open(out, "wb") as sink:
            for shard in shards:
                with open(shard, "rb") as source:
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)


class ParquetDataset:
    """Parquet: the string columns named by ``--fields`` are translated cell by cell, the other columns and the
    schema stay as they are. Blocks never cross a row group, so a read task reads each row group once."""

    name = "parquet"
    shard_suffix = ".arrow"

    def __init__(self, path: Path, fields: str) -> None:
        self.path = path
        self.columns = [".".join(path) for path in jsonl.parse_fields(fields)]
        self._row_bytes: dict[int, int] = {}  # bytes per row of each row group, known once planned

    def check(self) -> None:
        """Every field is a top-level string column of the file (checked on the driver, before Ray starts)."""
        import pyarrow as pa

        schema = self._file().schema_arrow
        for name in self.columns:
            if name not in schema.names:
                hint = (
                    " (nested paths are not supported for Parquet: name a top-level column)"
                    if "." in name
                    else ""
                )
                raise InputError(
                    f"{self.path}: no column {name!r}{hint}; its columns are {', '.join(schema.names)}"
                )
            kind = schema.field(name).type
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                raise InputError(
                    f"{self.path}: column {name!r} holds {kind}, not strings; --fields names string columns"
                )

    def plan(self, records: int, chars: int) -> list[Block]:
        metadata = self._file().metadata
        blocks: list[Block] = []
        row = 1
        for group in range(metadata.num_row_groups):
            rows = metadata.row_group(group).num_rows
            self._row_bytes[group] = metadata.row_group(group).total_byte_size // max(1, rows)
            for offset in range(0, rows, records):
                count = min(records, rows - offset)
                blocks.append(Block(len(blocks), row + offset, count, (group, offset)))
            row += rows
        return blocks

    def size(self, block: Block) -> int:
        return self._row_bytes.get(block.where[0], 100) * block.count

    def read(self, blocks: Sequence[Block]) -> Iterator[bytes]:
        """Each block's rows as an Arrow IPC stream; each row group is read once."""
        parquet = self._file()
        group: int | None = None
        table: Any = None  # a pyarrow Table (pyarrow has no type hints)
        for block in blocks:
            if block.where[0] != group:
                group, table = block.where[0], parquet.read_row_group(block.where[0])
            yield _ipc(table.slice(block.where[1], block.count))

    def texts(self, payload: bytes, settings: Settings) -> list[str]:
        table = _table(payload)
        return [value for name in self.columns for value in table.column(name).to_pylist() if value]

    def translate(
        self,
        translator,
        block: Block,
        payload: bytes,
        settings: Settings,
        cache: OutcomeCache | None,
    ) -> BlockResult:
        """Each non-null cell of the chosen columns becomes a one-slot document, row by row, and all of the
        block's documents go through :meth:`Translator.translate_documents` together, as JSONL records do."""
        import pyarrow as pa

        table = _table(payload)
        values = {name: table.column(name).to_pylist() for name in self.columns}
        places, documents = [], []
        for row in range(table.num_rows):
            for name in self.columns:
                if values[name][row] is not None:
                    places.append((row, name))
                    documents.append(_cell(values[name][row], block.first + row))
        segments = sum(len(document.segments) for document in documents)
        counted = [0]
        results = translator.translate_documents(
            documents,
            source=settings.source,
            target=settings.target,
            options=settings.options,
            chunking=settings.chunking(
                cache, lambda indices, outcomes, new: counted.__setitem__(0, counted[0] + new)
            ),
        )
        result = BlockResult(b"", table.num_rows, segments, counted[0])
        for (row, name), translated in zip(places, results, strict=True):
            values[name][row] = translated.rendered
            result.flags.extend((block.first + row, flag) for _, flag in translated.flags)
        for name in self.columns:
            position = table.schema.get_field_index(name)
            table = table.set_column(
                position,
                table.schema.field(position),
                pa.array(values[name], type=table.schema.field(position).type),
            )
        result.payload = _ipc(table)
        return result

    def assemble(self, shards: Sequence[Path], out: Path) -> None:
        """The shards' rows, in order, into one Parquet file with the input's schema (its metadata included)."""
        import pyarrow.parquet as pq

        schema = self._file().schema_arrow
        with pq.ParquetWriter(out, schema) as writer:
            for shard in shards:
                writer.write_table(_table(shard.read_bytes()).cast(schema))

    def _file(self):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(f"cannot read {self.path} as Parquet: {exc}") from None


def dataset_for(path: Path, fields: str, format_name: str | None = None) -> JsonlDataset | ParquetDataset:
    """The dataset format for ``path``: ``format_name`` (``jsonl`` or ``parquet``), else by extension."""
    name = format_name or (
        "parquet"
        if path.suffix.lower() in (".parquet", ".pq")
        else "jsonl"
        if path.suffix.lower() in (".jsonl", ".ndjson")
        else None
    )
    if name not in ("jsonl", "parquet"):
        raise InputError(
            f"{path}: a Ray job translates JSON Lines (.jsonl) or Parquet (.parquet) datasets; "
            "give --format jsonl for another extension"
        )
    jsonl.require_fields(fields, "a dataset")
    return JsonlDataset(path, fields) if name == "jsonl" else ParquetDataset(path, fields)


def _cell(value: str, row: int) -> formats.Document:
    """A Parquet cell as a document with one segment (none when it holds no words): it renders to the
    translation, or to the value itself when it is left as it was."""
    builder = formats.Builder(first_line=row)
    builder.slot(value, value, _plain)
    return builder.finish()


def _plain(text: str) -> str:
    return text


def _ipc(table) -> bytes:
    import pyarrow as pa

    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _table(payload: bytes):
    import pyarrow as pa

    return pa.ipc.open_stream(payload).read_all()


def flags_json(flags: Sequence[tuple[int, Flag]]) -> str:
    """Flags as JSON, to travel in an Arrow column."""
    return json.dumps(
        [[line, flag.source, flag.problem, flag.attempts] for line, flag in flags], ensure_ascii=False
    )


def flags_from_json(text: str) -> list[tuple[int, Flag]]:
    return [(line, Flag(source, problem, attempts)) for line, source, problem, attempts in json.loads(text)]
