"""What a file job shows and keeps: progress per segment, plain text a block at a time, what an interrupted job
kept, and a resumed job that was finished already."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tg_edge.jobs import FileJob, JobOptions, JobReport, Unfinished

from .conftest import run_cli

SENTENCES = (
    "The museum opens at nine. The café next to it opens at ten. Tickets are sold at the door. "
    "Children under six go in for free. The garden closes at dusk. Dogs must stay on a lead. "
    "Photos are allowed without flash. The shop sells maps and postcards. "
)


def test_an_interrupted_job_says_what_it_kept() -> None:
    assert JobReport().kept_note() == "Interrupted: nothing finished yet, nothing kept."
    report = JobReport(written=[Path("a.md")], unfinished=Unfinished("b.md", 0, 120, "segments"))
    assert report.kept_note() == "Interrupted: 1 file written; run the same command with --resume to go on."
    report.unfinished = Unfinished("b.md", 64, 120, "segments")
    assert report.kept_note() == (
        "Interrupted: 1 file written, 64 of 120 segments of b.md kept; run the same command with --resume to go on."
    )


@pytest.mark.integration
def test_segments_are_reported_one_by_one_before_their_chunk_ends(translator: object) -> None:
    from tg_edge.documents import Chunking
    from tg_edge.formats import read

    document = read(
        "# Opening hours\n\nMonday to Friday.\n\nClosed on Sundays.\n\n- Free entry\n", "a.md", "md"
    )
    events: list[tuple[str, int]] = []
    translator.translate_documents(
        [document],
        source="en",
        target="de",
        chunking=Chunking(
            on_segment=lambda n: events.append(("segment", n)),
            on_chunk=lambda indices, outcomes, new: events.append(("chunk", len(indices))),
        ),
    )
    assert events == [("segment", 1)] * 4 + [("chunk", 4)]


@pytest.mark.integration
def test_a_resumed_job_that_is_complete_writes_nothing(translator: object, tmp_path: Path) -> None:
    source = tmp_path / "in.md"
    source.write_text("# Hello\n\nGood morning.\n", encoding="utf-8")
    out = tmp_path / "out.md"
    args = ("translate", "-s", "en", "-t", "de", "-i", str(source), "-o", str(out))
    assert run_cli(*args, translator=translator).returncode == 0
    before = out.stat()
    resumed = run_cli(*args, "--resume", translator=translator)
    assert resumed.returncode == 0, resumed.stderr
    assert (
        resumed.stderr
        == (
            f"Nothing to resume for {out}: complete already, left as it is (run without --resume to translate again).\n"
        ).encode()
    )
    assert out.stat().st_mtime_ns == before.st_mtime_ns and out.stat().st_ino == before.st_ino


class _StopAfterFirstBlock(logging.Handler):
    """Ctrl-C, as the user would press it, right after the first block of text is written and journaled."""

    def emit(self, record: logging.LogRecord) -> None:
        if "bytes translated" in record.getMessage():
            raise KeyboardInterrupt


@pytest.mark.integration
def test_one_long_line_is_translated_block_by_block_and_resumes_where_it_stopped(
    translator: object, tmp_path: Path
) -> None:
    source = tmp_path / "long.txt"
    source.write_text(SENTENCES + "\n", encoding="utf-8")  # one line, several blocks of 200 bytes
    size = source.stat().st_size
    options = JobOptions(source="en", target="de", chunk_chars=200, progress=False)
    whole = tmp_path / "whole.txt"
    FileJob(translator, options).run([(source, whole)])
    assert whole.read_text(encoding="utf-8").count("\n") == 1  # still one line, translated

    out = tmp_path / "out.txt"
    logger = logging.getLogger("tg_edge")
    logger.setLevel(logging.INFO)
    stop = _StopAfterFirstBlock()
    logger.addHandler(stop)
    interrupted = FileJob(translator, options)
    try:
        with pytest.raises(KeyboardInterrupt):
            interrupted.run([(source, out)])
    finally:
        logger.removeHandler(stop)
    kept = interrupted.report.unfinished
    assert kept is not None and 0 < kept.kept < size and kept.unit == "bytes"
    assert interrupted.report.kept_note() == (
        f"Interrupted: {kept.kept} of {size} bytes of {source} kept; run the same command with --resume to go on."
    )
    assert not out.exists()
    FileJob(translator, JobOptions(source="en", target="de", chunk_chars=200, resume=True)).run(
        [(source, out)]
    )
    assert out.read_bytes() == whole.read_bytes()  # a resumed job gives what an uninterrupted one gives
    assert not list(tmp_path.glob(".out.txt*"))
