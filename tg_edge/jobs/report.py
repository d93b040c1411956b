"""What a file job did, told once for every caller: the report, its summary lines and the strict exit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..documents import Flag
from ..errors import TranslationIncomplete
from ..formats import BINARY, format_for

SHOWN = 50
"""Suspect segments (and passed-over files of one kind) a summary names before it says how many more."""


@dataclass(frozen=True)
class Flagged:
    """A segment whose kept translation a guard still finds suspect: a :class:`~tg_edge.documents.Flag` and
    where it stands (the input's path and line)."""

    path: str
    line: int
    flag: Flag

    @property
    def source(self) -> str:
        return self.flag.source

    @property
    def problem(self) -> str:
        return self.flag.problem

    @property
    def attempts(self) -> int:
        return self.flag.attempts


@dataclass(frozen=True)
class FlaggedGroup:
    """The flags of one file that name the same text and problem (a repeated segment), with all their lines."""

    path: str
    source: str
    problem: str
    lines: tuple[int, ...]
    attempts: int

    def line(self) -> str:
        """One summary line: where, what and after how many attempts; a repeated segment with its places."""
        preview = self.source if len(self.source) <= 60 else self.source[:59] + "…"
        kind = format_for(self.path)
        place = "page" if kind == "pdf" else "paragraph" if kind in BINARY else "line"
        attempts = f"after {self.attempts} attempt{'s' if self.attempts > 1 else ''}"
        if len(self.lines) == 1:
            return f"{self.path}, {place} {self.lines[0]}: {preview!r} {self.problem} ({attempts})"
        shown = ", ".join(str(line) for line in self.lines[:8]) + (", …" if len(self.lines) > 8 else "")
        return f"{self.path}: {preview!r} {self.problem} (×{len(self.lines)}: {place}s {shown}; {attempts})"


@dataclass(frozen=True)
class PassedOver:
    """A file a job left out without translating it, and why (a type tg-edge does not read, an image the model
    cannot read)."""

    path: str
    reason: str


@dataclass
class Unfinished:
    """The file a job is working on, and how much of it its journal holds (what ``--resume`` would keep)."""

    path: str
    kept: int
    total: int
    unit: str


@dataclass
class JobReport:
    """What a job did: files written, segments translated, what was flagged, skipped or passed over."""

    written: list[Path] = field(default_factory=list)
    segments: int = 0
    translated: int = 0
    cached: int = 0
    resumed: int = 0
    flagged: list[Flagged] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    passed_over: list[PassedOver] = field(default_factory=list)
    complete: list[Path] = field(default_factory=list)
    """Outputs a resumed job found finished already, left as they are."""
    unfinished: Unfinished | None = None
    seconds: float = 0.0

    def passed_over_groups(self) -> list[tuple[str, list[str]]]:
        """(reason, paths) of :attr:`passed_over`, one per reason, in order of first appearance."""
        groups: dict[str, list[str]] = {}
        for item in self.passed_over:
            groups.setdefault(item.reason, []).append(item.path)
        return list(groups.items())

    def kept_note(self) -> str:
        """What an interrupted job kept, in one line."""
        kept = []
        if self.written:
            kept.append(f"{len(self.written)} file{'s' if len(self.written) > 1 else ''} written")
        if self.unfinished is not None and self.unfinished.kept:
            u = self.unfinished
            kept.append(f"{u.kept} of {u.total} {u.unit} of {u.path} kept")
        if not kept:
            return "Interrupted: nothing finished yet, nothing kept."
        return f"Interrupted: {', '.join(kept)}; run the same command with --resume to go on."

    def flagged_groups(self) -> list[FlaggedGroup]:
        """:attr:`flagged` with identical flags of a file together, in order of first appearance."""
        groups: dict[tuple[str, str, str], list[Flagged]] = {}
        for flag in self.flagged:
            groups.setdefault((flag.path, flag.source, flag.problem), []).append(flag)
        return [
            FlaggedGroup(path, source, problem, tuple(f.line for f in flags), max(f.attempts for f in flags))
            for (path, source, problem), flags in groups.items()
        ]

    def summary(self) -> list[str]:
        """What the job did, for stderr: counts, then each suspect segment and skipped input by place."""
        lines = []
        if (
            self.segments >= 200
            or self.flagged
            or self.skipped
            or self.passed_over
            or self.resumed
            or len(self.written) > 1
        ):
            lines.append(self._counts())
        if self.flagged:
            groups = self.flagged_groups()
            distinct = f", {len(groups)} distinct" if len(groups) < len(self.flagged) else ""
            lines.append(
                f"{len(self.flagged)} segments need a look{distinct} (kept the best translation found):"
            )
            lines.extend(f"  {group.line()}" for group in groups[:SHOWN])
            if len(groups) > SHOWN:
                lines.append(f"  … and {len(groups) - SHOWN} more")
        lines.extend(f"Skipped: {skipped}" for skipped in self.skipped)
        for reason, paths in self.passed_over_groups():
            lines.append(f"Passed over {reason}:")
            lines.extend(f"  {path}" for path in paths[:SHOWN])
            if len(paths) > SHOWN:
                lines.append(f"  … and {len(paths) - SHOWN} more")
        if self.complete:
            done = str(self.complete[0]) if len(self.complete) == 1 else f"{len(self.complete)} outputs"
            lines.append(
                f"Nothing to resume for {done}: complete already, left as it is "
                "(run without --resume to translate again)."
            )
        return lines

    def _counts(self) -> str:
        return (
            f"{len(self.written)} files written, {self.segments} segments "
            f"({self.translated} translated, {self.cached} from the cache, "
            f"{self.resumed} resumed) in {self.seconds:.1f} s."
        )

    def check_strict(self, strict: bool) -> None:
        """With ``strict``, :class:`TranslationIncomplete` (carrying this report) if any segment was flagged."""
        check_strict(strict, len(self.flagged), "segments are still suspect after retrying", self)


def check_strict(strict: bool, suspect: int, what: str, report: JobReport | None = None) -> None:
    """The strict exit, decided here for every job: with ``strict`` and ``suspect`` items, raise
    :class:`TranslationIncomplete` ("N WHAT (strict)"), carrying the ``report`` (the outputs are written)."""
    if strict and suspect:
        error = TranslationIncomplete(f"{suspect} {what} (strict)")
        if report is not None:
            error.report = report
        raise error
