"""The same input, model and settings give the same bytes, whatever the machine's load or what ran before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tg_edge.bench.flores import load_flores

from .conftest import run_cli

pytestmark = pytest.mark.integration


def test_a_file_translated_again_under_cpu_load_gives_the_same_bytes(
    translator: object, tmp_path: Path
) -> None:
    """20 lines, more than one --batch of 16 segments: a full batch as wide as the model's parallel sequences
    and a partial one, each decoded twice, with other work in between and a busy process the second time."""
    source = tmp_path / "news.txt"
    source.write_text("\n".join(load_flores("en", 20, start=300)) + "\n", encoding="utf-8")
    quiet, loaded = tmp_path / "quiet.de.txt", tmp_path / "loaded.de.txt"
    args = ("translate", "-s", "en", "-t", "de", "-i", str(source), "--batch", "16")
    assert run_cli(*args, "-o", str(quiet), translator=translator).returncode == 0
    run_cli("translate", "-s", "en", "-t", "fr", "A different text in between.", translator=translator)
    # Competes for the cores whenever one is free, at low priority: at full priority it would stall llama.cpp's
    # two threads at every barrier on a 2-core machine (minutes, not seconds) without changing what is tested.
    busy = subprocess.Popen([sys.executable, "-c", "import os\nos.nice(19)\nwhile True: pass"])
    try:
        assert run_cli(*args, "-o", str(loaded), translator=translator).returncode == 0
    finally:
        busy.kill()
        busy.wait()
    assert quiet.read_bytes() == loaded.read_bytes()


def test_concurrent_calls_each_still_get_a_whole_translation(translator: object) -> None:
    """Calls from several threads share batches (the server's case): outputs may differ at near-ties, but
    every call completes with a translation of its own text."""
    from concurrent.futures import ThreadPoolExecutor

    sentences = load_flores("en", 6, start=20)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda s: translator.translate(s, source="en", target="de"), sentences))
    assert [" ".join(s.source for s in r.segments) for r in results] == sentences
    assert all(r.text.strip() for r in results)
