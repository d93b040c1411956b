"""Journals beside outputs: what a job finished, so ``--resume`` redoes nothing; and outputs written a chunk at a
time into a partial file that becomes the output at the end (or into a device or pipe as they are)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ..errors import TgEdgeError
from ..fileio import is_stream, open_output_stream

JOURNAL_SUFFIX = ".tg-edge-journal"
PARTIAL_SUFFIX = ".tg-edge-partial"


def journal_path(out: Path) -> Path:
    return out.parent / f".{out.name}{JOURNAL_SUFFIX}"


def partial_path(out: Path) -> Path:
    return out.parent / f".{out.name}{PARTIAL_SUFFIX}"


class Appender:
    """The journal beside an output: a header line with the job's fingerprint, then one JSON line per entry."""

    def __init__(self, path: Path | None, fingerprint: str, *, fresh: bool) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.fresh = fresh
        self._handle: TextIO | None = None

    def __enter__(self) -> Appender:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "w" if self.fresh else "a", encoding="utf-8")
            if self.fresh:
                self._write({"fingerprint": self.fingerprint, "tg_edge_journal": 1})
        return self

    def write(self, entries: list[dict[str, object]]) -> None:
        if self._handle is not None and entries:
            for entry in entries:
                self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def _write(self, entry: dict[str, object]) -> None:
        self.write([entry])

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()


def read_journal(path: Path, fingerprint: str) -> list[dict[str, Any]]:  # JSON objects
    """The journal's complete entries (a line cut by a kill is ignored); refuses another job's journal."""
    lines = path.read_text(encoding="utf-8").split("\n")
    entries = []
    for line in lines[:-1]:  # the last item is "" after a complete line, or a cut line
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            break
    if not entries or entries[0].get("fingerprint") != fingerprint:
        raise TgEdgeError(
            f"cannot resume from {path}: it belongs to another job (other input, languages, fields "
            "or model); run again without --resume to start over"
        )
    return entries[1:]


class AppendedOutput:
    """An output appended a chunk at a time: into a partial file beside it, each chunk then recorded in the
    journal with where the input stands, the partial file becoming the output at :meth:`finish`. A device or
    pipe is written into directly, with no journal. With ``resume``, :attr:`position` is the last recorded
    entry (``{}`` for a fresh start) and the partial file is cut back to what it records."""

    def __init__(self, out: Path, fingerprint: str, *, resume: bool) -> None:
        self.out = out
        self.streaming = is_stream(out)
        self.journal, self.partial = journal_path(out), partial_path(out)
        self.position: dict[str, object] = {}
        if resume and not self.streaming and self.journal.exists() and self.partial.exists():
            entries = read_journal(self.journal, fingerprint)
            self.position = entries[-1] if entries else {}
            if self.partial.stat().st_size < int(self.position.get("bytes", 0)):  # type: ignore[call-overload]
                raise TgEdgeError(
                    f"cannot resume {out}: {self.partial} is shorter than its journal says; "
                    "run again without --resume"
                )
        self._log = Appender(None if self.streaming else self.journal, fingerprint, fresh=not self.position)
        self._sink: BinaryIO | None = None

    def __enter__(self) -> AppendedOutput:
        if self.streaming:
            self._sink = open_output_stream(self.out)
        else:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self._sink = open(self.partial, "r+b" if self.position else "wb")  # closed on exit
            written = int(self.position.get("bytes", 0))  # type: ignore[call-overload]
            self._sink.truncate(written)
            self._sink.seek(written)
        self._log.__enter__()
        return self

    def append(self, data: bytes, **position: object) -> None:
        """Write ``data``; once it is on disk, record ``position`` (where the input stands) in the journal."""
        if self._sink is None:
            raise RuntimeError("AppendedOutput.append outside its with block")
        try:
            self._sink.write(data)
            self._sink.flush()
            if not self.streaming:
                os.fsync(self._sink.fileno())
        except OSError as exc:
            raise TgEdgeError(f"cannot write {self.out}: {exc.strerror}") from None
        if not self.streaming:
            self._log.write([{**position, "bytes": self._sink.tell()}])

    def finish(self) -> None:
        """The partial file becomes the output, and the journal goes."""
        if self._sink is not None:
            self._sink.close()
        if not self.streaming:
            os.replace(self.partial, self.out)
            self.journal.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove the partial file and the journal (an input that turned out bad: nothing to resume)."""
        if self._sink is not None:
            with contextlib.suppress(OSError):
                self._sink.close()
        if not self.streaming:
            self.partial.unlink(missing_ok=True)
            self.journal.unlink(missing_ok=True)

    def __exit__(self, *exc: object) -> None:
        self._log.__exit__(*exc)
        if self._sink is not None:
            with contextlib.suppress(OSError):  # what a failed write left buffered fails again: said already
                self._sink.close()
