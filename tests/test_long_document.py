"""A long document made of real prose (FLORES-200 devtest paragraphs) comes back whole and in order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tg_edge import Translator
from tg_edge.bench.flores import flores_paragraphs
from tg_edge.guards import check
from tg_edge.jobs import FileJob, JobOptions

pytestmark = pytest.mark.integration


def translate_document(translator: Translator, words: int, tmp_path: Path):
    paragraphs = flores_paragraphs(words)
    source = tmp_path / "long.txt"
    source.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    output = tmp_path / "long.de.txt"
    report = FileJob(translator, JobOptions(source="en", target="de", progress=False)).run([(source, output)])
    return paragraphs, output.read_text(encoding="utf-8"), report


def assert_whole(paragraphs: list[str], translated: str, report) -> None:
    lines = translated.split("\n")
    assert len(lines) == 2 * len(paragraphs)  # paragraph, blank line, ..., paragraph, final newline
    assert all(
        lines[i].strip() for i in range(0, len(lines) - 1, 2)
    )  # every paragraph is there, in its place
    assert all(not lines[i] for i in range(1, len(lines), 2))
    assert report.segments == len(paragraphs)
    # Nothing silently cut: each paragraph's output passes the guards, or it is in the summary.
    flagged_lines = {flag.line for flag in report.flagged}
    for n, (source, output) in enumerate(zip(paragraphs, lines[::2], strict=False)):
        if check(source, output, "eos", source="en", target="de") is not None:
            assert 2 * n + 1 in flagged_lines, (source, output)


def test_a_1000_word_document_comes_back_with_every_paragraph_in_order(
    translator: Translator, tmp_path: Path
) -> None:
    paragraphs, translated, report = translate_document(translator, 1000, tmp_path)
    assert sum(len(p.split()) for p in paragraphs) >= 1000
    assert_whole(paragraphs, translated, report)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("TG_EDGE_SLOW"),
    reason="10,000 words take 15-45 minutes on 2 cores: set TG_EDGE_SLOW=1",
)
def test_a_10000_word_document_comes_back_with_every_paragraph_in_order(
    translator: Translator, tmp_path: Path
) -> None:
    paragraphs, translated, report = translate_document(translator, 10_000, tmp_path)
    assert_whole(paragraphs, translated, report)
