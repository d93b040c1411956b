"""Images in a file job: the text in each, translated, written as a text file (or onto standard output)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..documents import Flag
from ..fileio import write_output, write_stdout

if TYPE_CHECKING:
    from .filejob import FileJob


def translate_image_file(job: FileJob, path: Path, out: Path | None, stdout: TextIO | None = None) -> None:
    """The text in the image at ``path``, translated, into ``out`` (or onto ``stdout``)."""
    with job.bar(1, path.name, "image") as bar:
        result = job.translator.translate_image(
            path, source=job.options.source, target=job.options.target, options=job.decoding
        )
        bar.update(1)
    job.report.segments += 1
    job.count(1, 1)
    for segment in result.problems:
        job.flag(
            str(path), 1, Flag(source="", problem=segment.problem_message or "", attempts=segment.attempts)
        )
    text = result.text + "\n"
    if out is None:
        write_stdout(text, stdout)
    else:
        write_output(out, text)
        job.report.written.append(out)
