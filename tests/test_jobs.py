"""tg-edge translate on files and directories, as a user runs it: real model, real files, real subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tg_edge.formats import read

from .conftest import CliRun, run_cli
from .test_formats import SAMPLES

pytestmark = pytest.mark.integration


def env(model: Path) -> dict[str, str]:
    return {"TG_EDGE_MODEL": str(model)}


def translate(*args: str, model: object) -> CliRun:
    """``tg-edge translate -s en -t de ARGS`` in-process: ``model`` a loaded Translator (the session's, reused)
    or a model path the command loads itself."""
    if isinstance(model, Path):
        return run_cli("translate", "-s", "en", "-t", "de", "--threads", "2", *args, env=env(model))
    return run_cli("translate", "-s", "en", "-t", "de", *args, translator=model)


def skeleton(path: Path, name: str, **options: object) -> list[str]:
    document = read(path.read_bytes().decode("utf-8"), str(path), name, **options)
    return [part for part in document.parts if isinstance(part, str)]


def test_a_directory_of_formats_keeps_every_skeleton_byte_for_byte(
    translator: object, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    names = {
        "md": "guide.md",
        "html": "page.html",
        "srt": "sub/film.srt",
        "vtt": "talk.vtt",
        "jsonl": "data.jsonl",
        "txt": "notes.txt",
    }
    for kind, name in names.items():
        (src / name).write_bytes(SAMPLES[kind].encode("utf-8"))
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    proc = translate(
        "-i", str(src), "-o", str(out), "--fields", "instruction,output,messages.*.content", model=translator
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b""
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before  # the input is never modified
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == sorted([*names.values(), "sub"])
    for kind, name in names.items():
        options = {"fields": "instruction,output,messages.*.content"} if kind == "jsonl" else {}
        translated = read((out / name).read_bytes().decode("utf-8"), name, kind, **options)
        original = read(SAMPLES[kind], name, kind, **options)
        # The text between the segments (markup, code, URLs, timestamps, other JSON fields) is unchanged ...
        assert [p for p in translated.parts if isinstance(p, str)] == [
            p for p in original.parts if isinstance(p, str)
        ], kind
        # ... and the segments were translated (the demo model gets most of them).
        changed = sum(a.text != b.text for a, b in zip(translated.segments, original.segments, strict=False))
        assert changed >= len(original.segments) // 2, (kind, [s.text for s in translated.segments])
    film = (out / "sub/film.srt").read_text(encoding="utf-8")
    assert re.findall(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", film) == re.findall(
        r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", SAMPLES["srt"]
    )
    assert '```python\nprint("hello")  # code stays\n```' in (out / "guide.md").read_text(encoding="utf-8")
    record = json.loads((out / "data.jsonl").read_text(encoding="utf-8").split("\n")[0])
    assert record["id"] == 7 and record["n"] == 1500.0 and record["messages"][0]["role"] == "user"
    assert "6 files written" in proc.stderr.decode()


def test_identical_segments_are_translated_once(translator: object, tmp_path: Path) -> None:
    cues = "".join(
        f"{n}\n00:00:0{n},000 --> 00:00:0{n},500\n{'Thank you.' if n % 2 else 'Where?'}\n\n"
        for n in range(1, 9)
    )
    (tmp_path / "a.srt").write_text(cues, encoding="utf-8")
    (tmp_path / "b.srt").write_text(cues, encoding="utf-8")
    proc = translate(
        "-i",
        str(tmp_path / "a.srt"),
        "-i",
        str(tmp_path / "b.srt"),
        "-o",
        str(tmp_path / "out"),
        model=translator,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "16 segments (2 translated, 14 from the cache" in proc.stderr.decode()
    assert (tmp_path / "out/a.srt").read_bytes() == (tmp_path / "out/b.srt").read_bytes()


def test_a_killed_jsonl_job_resumes_to_exactly_every_record_once(
    demo_model: Path, translator: object, tmp_path: Path
) -> None:
    source = tmp_path / "data.jsonl"
    # 60 distinct sentences over 300 records: the cache keeps the test short, while each batch of 16
    # records up to record 60 still needs the model, so the kill lands while batches are left to do.
    records = [{"id": n, "instruction": f"Room {n % 60} is free.", "label": n % 3} for n in range(300)]
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    journal = tmp_path / ".out.jsonl.tg-edge-journal"
    args = [
        sys.executable,
        "-m",
        "tg_edge",
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--threads",
        "2",
        "-i",
        str(source),
        "-o",
        str(out),
        "--fields",
        "instruction",
        "--batch",
        "16",
    ]
    job = subprocess.Popen(
        args, env={**os.environ, **env(demo_model)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and job.poll() is None:
        if journal.exists() and journal.read_text(encoding="utf-8").count("\n") >= 2:  # one chunk is in
            break
        time.sleep(0.2)
    assert job.poll() is None, job.communicate()
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert not out.exists()  # an unfinished job leaves no output file, only its partial and journal
    resumed = translate(
        "-i",
        str(source),
        "-o",
        str(out),
        "--fields",
        "instruction",
        "--batch",
        "16",
        "--resume",
        model=translator,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    done = int(re.search(r"(\d+) resumed", resumed.stderr.decode()).group(1))
    assert 16 <= done < 300 and done % 16 == 0  # finished batches were not translated again
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 301
    got = [json.loads(line) for line in lines[:-1]]
    assert [r["id"] for r in got] == list(range(300))
    assert all(r["label"] == n % 3 for n, r in enumerate(got))
    assert sum(r["instruction"] != f"Room {n % 60} is free." for n, r in enumerate(got)) > 250
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl", "out.jsonl"]


def test_bad_files_name_the_file_and_line_and_skip_bad_goes_on(translator: object, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("Good morning.\n", encoding="utf-8")
    (src / "b.jsonl").write_text(
        '{"q": "Thank you."}\n{"q": broken}\n{"q": "Good night."}\n', encoding="utf-8"
    )
    (src / "c.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n\nx\n", encoding="utf-8")
    (src / "d.txt").write_bytes(b"fine\ncaf\xe9\n")
    (src / "e.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    out = tmp_path / "out"
    stop = translate("-i", str(src), "-o", str(out), "--fields", "q", model=translator)
    assert stop.returncode == 1 and b"Traceback" not in stop.stderr
    assert f"{src / 'b.jsonl'}, line 2: not valid JSON".encode() in stop.stderr
    assert (out / "a.txt").read_text(encoding="utf-8").strip()  # what was finished before stays

    going = translate("-i", str(src), "-o", str(out), "--fields", "q", "--skip-bad", model=translator)
    err = going.stderr.decode()
    assert going.returncode == 0, err
    assert f"Skipped: {src / 'b.jsonl'}, line 2: not valid JSON" in err
    assert f"Skipped: {src / 'c.srt'}, line 5: expected a subtitle number" in err
    assert f"Skipped: {src / 'd.txt'} is not valid UTF-8: byte 0xe9 at line 2, column 4" in err
    assert f"Skipped: {src / 'e.md'} is an image, not text" in err  # named by its bytes (tg_edge.filetypes)
    kept = [json.loads(line) for line in (out / "b.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(kept) == 2  # the malformed record is left out, the others are translated
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.jsonl"]


def test_format_option_reads_stdin_and_writes_stdout(translator: object) -> None:
    srt = b"1\n00:00:01,000 --> 00:00:02,000\nWhere is the train station?\n"
    proc = run_cli("translate", "-s", "en", "-t", "de", "--format", "srt", input=srt, translator=translator)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"1\n00:00:01,000 --> 00:00:02,000\n") and b"Bahnhof" in proc.stdout
    assert proc.stderr == b""


def test_jsonl_without_fields_and_several_inputs_without_a_directory_are_usage_errors(
    translator: object, tmp_path: Path
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"a": "b"}\n', encoding="utf-8")
    proc = translate("-i", str(data), "-o", str(tmp_path / "o.jsonl"), model=translator)
    assert proc.returncode == 2 and b"needs --fields" in proc.stderr
    proc = translate("-i", str(data), "-i", str(data), model=translator)
    assert proc.returncode == 1 and b"several inputs need -o/--output DIRECTORY" in proc.stderr
    proc = translate("-i", str(data), "-o", str(data), "--fields", "a", model=translator)
    assert proc.returncode == 2 and b"inputs are never overwritten" in proc.stderr


def test_suspect_segments_are_summarised_by_place_and_strict_exits_3(
    translator: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token budget far too small cuts every translation (the real model, decoding for real): the
    file is still written, each cut segment is listed with its file and line, and --strict exits 3."""
    from functools import partial

    from click.testing import CliRunner

    import tg_edge.translator
    from tg_edge.cli import main

    monkeypatch.setattr(
        tg_edge.translator,
        "TranslationOptions",
        partial(tg_edge.translator.TranslationOptions, output_ratio=0.1, output_slack=1),
    )
    src = tmp_path / "in.md"
    src.write_text("# Title\n\nThe weather is very nice in the summer.\n", encoding="utf-8")
    out = tmp_path / "out.md"
    args = ["translate", "-s", "en", "-t", "de", "-i", str(src), "-o", str(out)]
    plain = CliRunner().invoke(main, args, obj=translator)
    assert plain.exit_code == 0, plain.output
    assert f"{src}, line 3: 'The weather is very nice in the summer.' hit the token limit" in plain.stderr
    assert out.read_text(encoding="utf-8").startswith("# ")
    strict = CliRunner().invoke(main, [*args, "--strict"], obj=translator)
    assert strict.exit_code == 3 and "still suspect after retrying" in strict.stderr


def test_a_killed_document_job_resumes_from_its_journal(
    demo_model: Path, translator: object, tmp_path: Path
) -> None:
    source = tmp_path / "notes.md"
    lines = [f"- Item {n}: the shop opens at {n % 12 + 1} o'clock." for n in range(24)]
    source.write_text("# Opening hours\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "notes.de.md"
    journal = tmp_path / ".notes.de.md.tg-edge-journal"
    args = [
        sys.executable,
        "-m",
        "tg_edge",
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--threads",
        "2",
        "-i",
        str(source),
        "-o",
        str(out),
        "--batch",
        "4",
    ]
    job = subprocess.Popen(
        args, env={**os.environ, **env(demo_model)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and job.poll() is None:
        if journal.exists() and journal.read_text(encoding="utf-8").count("\n") >= 5:  # header + one batch
            break
        time.sleep(0.1)
    assert job.poll() is None, job.communicate()
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert not out.exists()
    resumed = translate("-i", str(source), "-o", str(out), "--batch", "4", "--resume", model=translator)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert int(re.search(r"(\d+) resumed", resumed.stderr.decode()).group(1)) >= 4
    translated = out.read_text(encoding="utf-8").split("\n")
    assert translated[0].startswith("# ") and translated[1] == "" and len(translated) == 2 + 24 + 1
    assert all(line.startswith("- ") and len(line) > 4 for line in translated[2:-1])
    assert not journal.exists()
    whole = tmp_path / "whole.md"
    assert translate("-i", str(source), "-o", str(whole), "--batch", "4", model=translator).returncode == 0
    assert out.read_bytes() == whole.read_bytes()  # a resumed job gives what an uninterrupted one gives


def invoke(*args: str, model: object):
    """``tg-edge translate -s en -t de ARGS`` in-process (click's CliRunner) with the session's demo model."""
    from click.testing import CliRunner

    from tg_edge.cli import main

    return CliRunner().invoke(main, ["translate", "-s", "en", "-t", "de", *args], obj=model)


# Segments the demo model answers with nothing (checked on it: before the kept-source rule each of these
# was written as an empty slot, in every format).
EMPTY_PRONE = ("Q:", "A:", "B)")


def test_segments_the_model_returns_empty_keep_their_source_in_every_format(
    translator: object, tmp_path: Path
) -> None:
    import docx

    src = tmp_path / "in"
    src.mkdir()
    sentence = "The red house is on the hill."
    (src / "faq.md").write_text("# Q:\n\nA:\n\n- B)\n\n" + sentence + "\n", encoding="utf-8")
    (src / "faq.html").write_text(
        f"<h1>Q:</h1>\n<table><tr><td>A:</td><td>B)</td></tr></table>\n<p>{sentence}</p>\n", encoding="utf-8"
    )
    (src / "faq.srt").write_text(
        "".join(
            f"{n}\n00:00:0{n},000 --> 00:00:0{n},500\n{text}\n\n"
            for n, text in enumerate([*EMPTY_PRONE, sentence], start=1)
        ),
        encoding="utf-8",
    )
    (src / "faq.jsonl").write_text(
        "".join(json.dumps({"q": text}) + "\n" for text in [*EMPTY_PRONE, sentence]), encoding="utf-8"
    )
    word = docx.Document()
    table = word.add_table(rows=1, cols=3)
    for column, text in enumerate(EMPTY_PRONE):
        table.cell(0, column).text = text
    word.add_paragraph(sentence)
    word.save(src / "faq.docx")
    out = tmp_path / "out"
    result = invoke("-i", str(src), "-o", str(out), "--fields", "q", model=translator)
    assert result.exit_code == 0, result.output
    for name in ("faq.md", "faq.html", "faq.srt", "faq.docx"):
        kind = name.split(".")[1]
        before = read(
            (src / name).read_bytes() if kind == "docx" else (src / name).read_text(encoding="utf-8"),
            name,
            kind,
        )
        after = read(
            (out / name).read_bytes() if kind == "docx" else (out / name).read_text(encoding="utf-8"),
            name,
            kind,
        )
        # A slot written empty would hold no segment: every slot is still there and holds text.
        assert len(after.segments) == len(before.segments) == 4, (name, [s.text for s in after.segments])
        assert all(s.text.strip() for s in after.segments), name
        assert [s.text for s in after.segments][:3] == list(EMPTY_PRONE), name  # kept, not dropped
    records = [json.loads(line)["q"] for line in (out / "faq.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[:3] == list(EMPTY_PRONE) and records[3].strip()
    assert "came back empty; the source text was kept" in result.stderr


def test_an_output_ending_in_a_slash_is_a_directory_and_a_file_name_is_not_made_one(tmp_path: Path) -> None:
    """plan() on real files: -o newdir/ is a directory (made when needed), -o single.txt for a directory of
    inputs or several inputs is an error, not a directory called single.txt."""
    from tg_edge.errors import InputError
    from tg_edge.jobs import plan

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("One.\n", encoding="utf-8")
    (docs / "b.md").write_text("# Two\n", encoding="utf-8")
    one = docs / "a.txt"
    assert plan([one], f"{tmp_path / 'newdir'}/") == [(one, tmp_path / "newdir" / "a.txt")]
    assert plan([one], str(tmp_path / "newdir")) == [(one, tmp_path / "newdir")]  # no slash: a file name
    assert plan([one], tmp_path / "single.txt") == [(one, tmp_path / "single.txt")]
    assert plan([docs], tmp_path / "out") == [
        (docs / "a.txt", tmp_path / "out/a.txt"),
        (docs / "b.md", tmp_path / "out/b.md"),
    ]
    assert plan([docs], f"{tmp_path / 'out.md'}/")[0][1] == tmp_path / "out.md/a.txt"  # said so: a directory
    with pytest.raises(
        InputError,
        match=r"single\.txt looks like a file name, and a directory of inputs is "
        r"written to a directory: write -o .*single\.txt/",
    ):
        plan([docs], tmp_path / "single.txt")
    with pytest.raises(InputError, match=r"out\.md looks like a file name, and several inputs"):
        plan([docs / "a.txt", docs / "b.md"], tmp_path / "out.md")
    (tmp_path / "taken").write_text("a file\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"taken is a file, and several inputs"):
        plan([docs / "a.txt", docs / "b.md"], tmp_path / "taken")
    with pytest.raises(InputError, match=r"taken is a file, and -o ending in / names a directory"):
        plan([one], f"{tmp_path / 'taken'}/")
    assert not (tmp_path / "single.txt").exists() and not (tmp_path / "out.md").exists()


def test_one_file_into_a_directory_written_with_a_slash_and_a_directory_into_a_file_name(
    translator: object, tmp_path: Path
) -> None:
    src = tmp_path / "file.txt"
    src.write_text("Good morning.\n", encoding="utf-8")
    made = invoke("-i", str(src), "-o", f"{tmp_path / 'newdir'}/", model=translator)
    assert made.exit_code == 0, made.output
    assert (tmp_path / "newdir").is_dir() and (tmp_path / "newdir/file.txt").read_text(
        encoding="utf-8"
    ).strip()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Good night.\n", encoding="utf-8")
    refused = invoke("-i", str(docs), "-o", str(tmp_path / "single.txt"), model=translator)
    assert refused.exit_code == 1 and "single.txt looks like a file name" in refused.stderr
    assert "Traceback" not in refused.output and not (tmp_path / "single.txt").exists()
    one_text = invoke("-o", f"{tmp_path / 'newdir'}/", "Good night.", model=translator)
    assert one_text.exit_code == 1 and "is a directory, and one text is written to a file" in one_text.stderr


def test_skip_bad_that_skipped_every_file_exits_1(translator: object, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "d.txt").write_bytes(b"fine\ncaf\xe9\n")
    (src / "e.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = invoke("-i", str(src), "-o", str(tmp_path / "out"), "--skip-bad", model=translator)
    assert result.exit_code == 1, result.output
    assert f"Skipped: {src / 'd.txt'} is not valid UTF-8" in result.stderr
    assert "Error: nothing was written: all 2 inputs were skipped (see above)" in result.stderr
    assert "Traceback" not in result.output
    one = invoke("-i", str(src / "d.txt"), "-o", str(tmp_path / "d.de.txt"), "--skip-bad", model=translator)
    assert one.exit_code == 1 and "nothing was written: the input was skipped" in one.stderr


def test_warnings_for_a_repeated_segment_are_grouped_with_a_count(translator: object, tmp_path: Path) -> None:
    """40 records, 30 of them the three segments the demo model answers with nothing: one live warning for
    the call, and one summary line per distinct segment with its count and lines."""
    texts = [*EMPTY_PRONE, "The red house is on the hill."] * 10
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"q": text}) + "\n" for text in texts), encoding="utf-8")
    result = invoke("-i", str(data), "-o", str(tmp_path / "out.jsonl"), "--fields", "q", model=translator)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING:")]
    assert warnings == [
        f"WARNING: {data}: 3 of 4 segments each came back empty; the source text was kept (segments 1, 2, 3)"
    ]
    assert "30 segments need a look, 3 distinct (kept the best translation found):" in result.stderr
    assert (
        f"  {data}: 'Q:' came back empty; the source text was kept (×10: lines 1, 5, 9, 13, 17, 21, 25, 29, …; "
        "after 1 attempt)"
    ) in result.stderr.splitlines()
    assert len([line for line in result.stderr.splitlines() if line.startswith(f"  {data}")]) == 3
