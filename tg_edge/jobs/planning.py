"""Planning a file job: which files of the inputs (files and directories) go where, and which are left out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import formats
from ..errors import InputError
from ..fileio import check_output
from ..filetypes import unreadable_type
from ..images import IMAGE_SUFFIXES, is_image_file
from .report import PassedOver


@dataclass(frozen=True)
class JobPlan:
    """What a job will do: (input, output) pairs, and the files of its directories it leaves out."""

    pairs: list[tuple[Path, Path | None]]
    passed_over: list[PassedOver]


def plan(inputs: Sequence[Path], output: Path | str | None) -> list[tuple[Path, Path | None]]:
    """The (input, output) pairs of :func:`plan_job`."""
    return plan_job(inputs, output).pairs


def plan_job(inputs: Sequence[Path], output: Path | str | None) -> JobPlan:
    """Pairs of (input file, output file) for the given files and directories.

    A directory's files with a known extension are taken recursively and keep their relative paths
    under ``output`` (images too: their text is written to ``NAME.EXT.txt``); its other files (not
    hidden) are passed over, each with why. A single input file with an ``output`` that is not a
    directory is written to ``output`` itself; no ``output`` means stdout (one input file only). An
    ``output`` given as a string ending in ``/`` is a directory, existing or not; several inputs (or
    a directory) into an ``output`` that is a file, or that looks like one (a known file extension,
    not an existing directory), is an error rather than a directory of that name.
    """
    if not inputs:
        raise InputError("no input files")
    files: list[tuple[Path, Path]] = []  # (file, path relative to the output directory)
    passed_over: list[PassedOver] = []
    for item in inputs:
        if item.is_dir():
            found, others = directory_files(item)
            if not found:
                known = (*formats.known_suffixes(), *IMAGE_SUFFIXES)
                other = f"; {others[0].name} is one of the {why_passed_over(others[0])}" if others else ""
                raise InputError(f"{item} holds no files of a known format ({', '.join(known)}){other}")
            files.extend((p, _output_name(p.relative_to(item))) for p in found)
            passed_over.extend(PassedOver(str(p), why_passed_over(p)) for p in others)
        elif item.exists():
            files.append((item, _output_name(Path(item.name))))
        else:
            raise InputError(f"cannot read {item}: no such file or directory")
    single = len(inputs) == 1 and not inputs[0].is_dir()
    if output is None:
        if not single:
            raise InputError("several inputs need -o/--output DIRECTORY")
        return JobPlan([(files[0][0], None)], passed_over)
    directory = names_directory(output)
    target = Path(output)
    pairs: list[tuple[Path, Path | None]]
    if single and not directory:
        pairs = [(files[0][0], target)]
    else:
        reason = (
            "-o ending in / names a directory"
            if single
            else "several inputs are written to a directory"
            if len(inputs) > 1
            else "a directory of inputs is written to a directory"
        )
        _check_output_directory(target, directory, reason)
        pairs = [(path, target / relative) for path, relative in files]
    for path, out in pairs:
        if out is not None:
            check_output(out, [path])
    return JobPlan(pairs, passed_over)


def _output_name(relative: Path) -> Path:
    """Where an input's translation goes inside an output directory: the same name; an image's text as .txt."""
    return relative.with_name(relative.name + ".txt") if is_image_file(relative) else relative


def names_directory(output: Path | str) -> bool:
    """Whether ``output`` means a directory: an existing one, or a name written with a trailing ``/``."""
    return str(output).endswith(("/", os.sep)) or Path(output).is_dir()


def _check_output_directory(output: Path, said: bool, reason: str) -> None:
    """Refuse to make a directory out of a path that is a file or reads as a file name."""
    if output.exists() and not output.is_dir():
        raise InputError(f"{output} is a file, and {reason}")
    if not said and output.suffix.lower() in formats.known_suffixes():
        raise InputError(
            f"{output} looks like a file name, and {reason}: write -o {output}/ "
            "to make a directory of that name"
        )


def directory_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """A directory's files of the formats tg-edge reads (images included), and its other files, both sorted.
    Hidden files and Word's lock files are neither; nor is anything under a hidden directory (``.git``)."""
    known = (*formats.known_suffixes(), *IMAGE_SUFFIXES)
    found, others = [], []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue
        if path.suffix.lower() in known:
            found.append(path)
        elif not any(part.startswith(".") for part in path.relative_to(directory).parts):
            others.append(path)
    return found, others


def why_passed_over(path: Path) -> str:
    """Why a directory's file of another type is passed over, to follow "passed over" (by its name alone)."""
    kind = unreadable_type(path)
    return f"{kind.name}s ({kind.advice})" if kind is not None else "files of types tg-edge does not read"
