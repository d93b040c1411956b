"""The one check of a file job's options (what the CLI, FileJob and the Ray job all refuse before a model loads),
and the one object of load options every command builds: no model needed."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tg_edge.cli_params import load_options
from tg_edge.errors import JobOptionsError, LanguageError
from tg_edge.jobs import FileJob, JobOptions, check_job
from tg_edge.load_options import LoadOptions
from tg_edge.translator import TranslationOptions

from .conftest import run_cli

EN_DE = JobOptions(source="en", target="de")


@pytest.mark.parametrize(
    ("options", "pairs", "message"),
    [
        (JobOptions("en", "de", resume=True), [(Path("a.md"), None)], "--resume needs -o/--output"),
        (JobOptions("en", "de", format="docx"), [(None, Path("out.docx"))], "--format docx reads a file"),
        (EN_DE, [(Path("a.docx"), None)], "a translated DOCX file cannot go to standard output: give -o"),
        (
            EN_DE,
            [(Path("a.pdf"), None)],
            "cannot go to standard output: give -o FILE or -o DIR, or --format md",
        ),
        (EN_DE, [(Path("a.jsonl"), Path("b.jsonl"))], "a JSONL file needs --fields"),
        (JobOptions("en", "de", format="jsonl"), [(None, None)], "a JSONL file needs --fields"),
        (EN_DE, [(Path("a.parquet"), Path("b.parquet"))], "a dataset needs --fields"),
    ],
)
def test_job_options_that_cannot_work_are_one_usage_error(
    options: JobOptions, pairs: list[tuple[Path | None, Path | None]], message: str
) -> None:
    dataset = any(path is not None and path.suffix == ".parquet" for path, _ in pairs)
    with pytest.raises(JobOptionsError, match=message.replace("(", r"\(")) as refused:
        check_job(options, pairs, dataset=dataset)
    assert refused.value.exit_code == 2


def test_job_options_that_work_pass_and_a_pdf_in_a_script_its_fonts_lack_is_refused() -> None:
    check_job(
        JobOptions("en", "de", fields="text"), [(Path("a.jsonl"), Path("b.jsonl")), (Path("c.md"), None)]
    )
    check_job(JobOptions("en", "de", format="md"), [(Path("a.pdf"), None)])  # its text, as Markdown
    check_job(EN_DE, [(Path("a.pdf"), Path("a.md"))])
    with pytest.raises(LanguageError, match="DejaVu"):
        check_job(JobOptions("en", "ja"), [(Path("a.pdf"), Path("b.pdf"))])


class _NeverTranslates:
    """A translator the job must not reach: its options are read, anything else fails the test."""

    options = TranslationOptions()

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the job reached the translator ({name})")


def test_a_file_job_checks_every_pair_before_it_translates_one(tmp_path: Path) -> None:
    first, second = tmp_path / "a.md", tmp_path / "b.docx"
    first.write_text("# Hello\n", encoding="utf-8")
    second.write_bytes(b"not read")
    with pytest.raises(JobOptionsError, match="DOCX file cannot go to standard output"):
        FileJob(_NeverTranslates(), EN_DE).run([(first, tmp_path / "out.md"), (second, None)])  # type: ignore[arg-type]
    assert not (tmp_path / "out.md").exists()


def test_the_cli_shows_the_library_refusal_as_its_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    source.write_text('{"text": "Hello"}\n', encoding="utf-8")
    refused = run_cli("translate", "-s", "en", "-t", "de", "-i", str(source), "-o", str(tmp_path / "o.jsonl"))
    assert refused.returncode == 2
    assert refused.stderr.decode().splitlines()[-1] == (
        "Error: a JSONL file needs --fields to say which string fields to translate, e.g. --fields instruction,output"
    )
    assert b"Usage: " in refused.stderr  # a usage error, as click shows its own


def test_load_options_reach_a_command_as_one_object() -> None:
    seen: list[LoadOptions] = []

    @click.command()
    @load_options()
    def command(load: LoadOptions) -> None:
        seen.append(load)

    args = ["-m", "x.gguf", "--threads", "3", "--gpu-layers", "auto", "--ctx", "2048", "--parallel", "4"]
    args += ["--prompt-profile", "chat", "--kv-type", "q8_0"]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    assert seen == [LoadOptions("x.gguf", 3, "auto", 2048, 4, "chat", "q8_0", None)]
    with pytest.raises(AttributeError):
        seen[0].threads = 1  # type: ignore[misc]  # frozen: what a Ray actor gets is what the driver built


def test_serve_takes_the_load_options_translate_takes() -> None:
    def options(command: str) -> set[str]:
        shown = run_cli(command, "--help").stdout.decode()
        return {
            name
            for name in ("--parallel", "--prompt-profile", "--kv-type", "--mmproj", "--ctx")
            if name in shown
        }

    assert (
        options("serve")
        == options("translate")
        == {"--parallel", "--prompt-profile", "--kv-type", "--mmproj", "--ctx"}
    )
