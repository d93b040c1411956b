"""The tg-edge command as a user runs it: real subprocesses, stdout/stderr separation, exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import modules_after_help, run_cli
from .test_prompts import REFERENCE_EN_DE


def model_env(path: Path) -> dict[str, str]:
    return {"TG_EDGE_MODEL": str(path)}


def test_help_and_version_do_not_load_llama_cpp() -> None:
    assert modules_after_help(["--help"], ("llama_cpp",)) == []
    assert modules_after_help(["translate", "--help"], ("llama_cpp",)) == []
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.decode().startswith("tg-edge, version ")


@pytest.mark.parametrize("target", ["xx", "dee", "german-ish"])
def test_unknown_target_exits_2_with_a_message_and_no_traceback(target: str) -> None:
    proc = run_cli("translate", "-s", "en", "-t", target, "Hello")
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert f"unknown language '{target}'".encode() in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_typo_gets_a_suggestion() -> None:
    proc = run_cli("translate", "-s", "en", "-t", "dee", "Hello")
    assert b"did you mean 'de'?" in proc.stderr


def test_missing_target_is_a_usage_error_not_a_default() -> None:
    proc = run_cli("translate", "-s", "en", "Hello")
    assert proc.returncode == 2 and b"Missing option '-t'" in proc.stderr


@pytest.mark.parametrize("stdin", [b"", b"\n\n", b"   \n"])
def test_empty_input_gives_the_same_empty_output_and_exit_0(stdin: bytes) -> None:
    proc = run_cli("translate", "-s", "en", "-t", "de", input=stdin, env=model_env(Path("/nonexistent.gguf")))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == stdin


def test_invalid_utf8_is_a_clear_error_naming_the_place(tmp_path: Path) -> None:
    proc = run_cli("translate", "-s", "en", "-t", "de", input=b"fine\nbad \xff byte\n")
    assert proc.returncode == 1 and proc.stdout == b""
    assert b"<stdin> is not valid UTF-8: byte 0xff at line 2, column 5" in proc.stderr
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    proc = run_cli("translate", "-s", "en", "-t", "de", "-i", str(bad))
    assert proc.returncode == 1 and f"{bad} is not valid UTF-8".encode() in proc.stderr
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, b"model file not found"),
        (b"not a model", b"not a GGUF model file"),
        (b"GGUF\x03\x00\x00\x00", b"corrupt"),
    ],
)
def test_missing_or_corrupt_model_is_a_clear_error(
    tmp_path: Path, content: bytes | None, message: bytes
) -> None:
    model = tmp_path / "model.gguf"
    if content is not None:
        model.write_bytes(content)
    proc = run_cli("translate", "-s", "en", "-t", "de", "-m", str(model), "Hello")
    assert proc.returncode == 1 and proc.stdout == b""
    assert message in proc.stderr and b"Traceback" not in proc.stderr


def test_unknown_model_name_lists_the_known_ones() -> None:
    proc = run_cli("translate", "-s", "en", "-t", "de", "-m", "no-such-model", "Hello")
    assert proc.returncode == 1 and b"gemma-3-270m" in proc.stderr and b"Traceback" not in proc.stderr


def test_languages_lists_codes_and_names_as_text_and_json() -> None:
    text = run_cli("languages")
    assert text.returncode == 0
    assert any(line.split() == ["de", "German"] for line in text.stdout.decode().splitlines())
    listed = json.loads(run_cli("languages", "--json").stdout)
    assert {"code": "pt-BR", "name": "Portuguese", "table": "translategemma"} in listed and len(listed) == 581


@pytest.mark.integration
def test_translate_argument_prints_german_on_stdout_only(demo_model: Path) -> None:
    proc = run_cli(
        "translate", "-s", "en", "-t", "de", "Where is the train station?", env=model_env(demo_model)
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "Bahnhof" in out and out.endswith("\n") and out.count("\n") == 1
    assert proc.stderr == b""


@pytest.mark.integration
def test_stdin_structure_is_kept_and_stream_prints_the_same(demo_model: Path) -> None:
    text = b"Good morning.\n\n  I like apples.\n\nThank you.\n"
    plain = run_cli("translate", "-s", "en", "-t", "de", input=text, env=model_env(demo_model))
    streamed = run_cli("translate", "-s", "en", "-t", "de", "--stream", input=text, env=model_env(demo_model))
    assert plain.returncode == streamed.returncode == 0
    assert plain.stdout == streamed.stdout
    lines = plain.stdout.decode().split("\n")
    assert len(lines) == 6 and lines[1] == lines[3] == lines[5] == "" and lines[2].startswith("  ")


@pytest.mark.integration
def test_file_in_file_out_leaves_no_partial_file(demo_model: Path, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("The house is small.\n", encoding="utf-8")
    dst = tmp_path / "out.txt"
    proc = run_cli(
        "translate", "-s", "en", "-t", "de", "-i", str(src), "-o", str(dst), env=model_env(demo_model)
    )
    assert proc.returncode == 0 and proc.stdout == b""
    assert dst.read_text(encoding="utf-8").endswith("\n") and dst.read_text(encoding="utf-8").strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.txt"]
    assert src.read_text(encoding="utf-8") == "The house is small.\n"


@pytest.mark.integration
def test_json_output_carries_segments_and_stop_reasons(demo_model: Path) -> None:
    proc = run_cli("translate", "-s", "en", "-t", "fr", "--json", "Good night.", env=model_env(demo_model))
    data = json.loads(proc.stdout)
    assert data["profile"] == "fewshot" and data["segments"][0]["stop"] == "newline"
    assert data["translation"] == data["segments"][0]["translation"]


@pytest.mark.integration
def test_show_prompt_on_a_translategemma_gguf_prints_the_published_prompt(translategemma_copy: Path) -> None:
    proc = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--show-prompt",
        "-m",
        str(translategemma_copy),
        "Where is the train station?",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == REFERENCE_EN_DE


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "tg-edge"
    proc = subprocess.run([str(script), "--version"], capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith(b"tg-edge, version ")


def invoke(*args: str, input: str | None = None):
    """``tg-edge ARGS`` in-process through click's CliRunner."""
    from click.testing import CliRunner

    from tg_edge.cli import main

    return CliRunner().invoke(main, list(args), input=input)


@pytest.mark.integration
@pytest.mark.parametrize("stream", [False, True])
def test_a_line_the_model_answers_with_nothing_keeps_its_source(demo_model: Path, stream: bool) -> None:
    """The demo model answers a lone code fence and "Q:" with nothing: the output keeps the source, flagged."""
    result = invoke(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-m",
        str(demo_model),
        "--threads",
        "2",
        *(["--stream"] if stream else []),
        input="```\nQ:\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "```\nQ:\n"
    assert "came back empty; the source text was kept" in result.stderr


def test_translate_help_names_every_file_format() -> None:
    """--help lists DOCX and PDF among the formats a file keeps, and -i does not claim inputs are UTF-8 text only."""
    result = invoke("translate", "--help")
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    assert "(text, Markdown, HTML, SRT, WebVTT, JSONL, DOCX, PDF)" in help_text
    assert "[txt|md|html|srt|vtt|jsonl|docx|pdf]" in help_text
    assert "(UTF-8 text, DOCX or PDF)" in help_text
    assert "--pdf-layout [translated|bilingual]" in help_text


MARKDOWN = "# Install\n\nRun these lines:\n\n```sh\n# install\npip install tg-edge\n```\n"


@pytest.mark.integration
def test_markdown_on_stdin_without_format_gets_a_note_and_loses_no_line(demo_model: Path) -> None:
    base = ["translate", "-s", "en", "-t", "de", "-m", str(demo_model), "--threads", "2"]
    plain = invoke(*base, input=MARKDOWN)
    assert plain.exit_code == 0, plain.output
    assert "stdin looks like Markdown" in plain.stderr and "--format md" in plain.stderr
    lines = plain.stdout.split("\n")
    assert len(lines) == len(MARKDOWN.split("\n")) and all(lines[n].strip() for n in (0, 2, 4, 5, 6, 7))
    assert lines[7] == "```"  # the closing fence came back empty before: now it keeps its source
    as_markdown = invoke(*base, "--format", "md", input=MARKDOWN)
    assert as_markdown.exit_code == 0, as_markdown.output
    assert as_markdown.stdout.endswith("```sh\n# install\npip install tg-edge\n```\n")
    assert "looks like Markdown" not in as_markdown.stderr


def test_languages_resolves_a_code_or_name_and_names_its_table() -> None:
    bavarian = run_cli("languages", "bar", "--json")
    assert json.loads(bavarian.stdout) == [{"code": "bar", "name": "Bavarian", "table": "bcp47"}]
    assert json.loads(run_cli("languages", "German", "--json").stdout)[0]["table"] == "translategemma"
    slip = run_cli("languages", "dee")
    assert slip.returncode == 2 and b"did you mean 'de'" in slip.stderr and slip.stdout == b""


def test_a_text_argument_that_names_a_file_is_refused_with_a_hint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("Good night.\n", encoding="utf-8")
    proc = run_cli(
        "translate", "-s", "en", "-t", "de", "file.txt", env={"TG_EDGE_MODEL": "/nonexistent.gguf"}
    )
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"'file.txt' is a file: translate it with -i file.txt" in proc.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_is_accepted_before_and_after_the_command_name(where: str) -> None:
    import logging

    from click.testing import CliRunner

    from tg_edge.cli import main

    args = ["-v", "models", "list"] if where == "before" else ["models", "list", "-v"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert logging.getLogger("tg_edge").level == logging.INFO


@pytest.mark.integration
def test_a_byte_order_mark_on_stdin_stays_out_of_the_prompt_and_comes_back(translator: object) -> None:
    proc = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--json",
        input="\ufeffGood night.\n".encode(),
        translator=translator,
    )
    data = json.loads(proc.stdout)
    assert [s["source"] for s in data["segments"]] == ["Good night."]
    assert data["translation"].startswith("\ufeff") and data["translation"].strip("\ufeff\n")
    plain = run_cli(
        "translate", "-s", "en", "-t", "de", input="\ufeffGood night.\n".encode(), translator=translator
    )
    assert plain.stdout.startswith("\ufeff".encode()) and plain.stdout.decode().strip("\ufeff\n")


@pytest.mark.integration
def test_strict_still_prints_the_translation_then_exits_3(translator: object) -> None:
    # The demo model answers "Q:" with nothing: the source is kept and flagged.
    proc = run_cli("translate", "-s", "en", "-t", "de", "--strict", input=b"Q:\n", translator=translator)
    assert proc.returncode == 3 and proc.stdout == b"Q:\n"
    assert b"came back empty; the source text was kept" in proc.stderr
