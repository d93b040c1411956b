"""A new user's first hours: what they type gets a clear answer, and nothing that works looks like a failure
(issue 29, items 6 and 12)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli, spawn_cli

README = Path(__file__).resolve().parents[1] / "README.md"
DOCS = README.parent / "docs"


def test_gpu_layers_on_a_cpu_only_build_warn_once_and_run_on_the_cpu(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tg_edge.machine import gpu_available
    from tg_edge.models.fits import resolve_gpu_layers

    if gpu_available():
        pytest.skip("this llama.cpp build has a GPU backend")
    with caplog.at_level(logging.WARNING, logger="tg_edge"):
        assert resolve_gpu_layers(5, "model.gguf") == 0
        assert resolve_gpu_layers(0, "model.gguf") == 0  # nothing asked for: nothing to say
    assert [record.getMessage() for record in caplog.records] == [
        "--gpu-layers 5 is ignored: this llama.cpp build has no GPU backend, so the model runs on the CPU "
        "(README's GPU section tells how to build one in)"
    ]


def test_an_unknown_model_says_what_it_is_not_and_offers_no_demo_that_is_installed() -> None:
    from tg_edge.models.demo import demo_installed

    if not demo_installed():
        pytest.skip("the demo model is not installed")
    run = run_cli("translate", "-s", "en", "-t", "de", "-m", "foo", "Hello")
    [line] = run.stderr.decode().splitlines()
    assert run.returncode == 1 and line.startswith(
        "Error: unknown model 'foo': there is no file foo, and 'foo' is not"
    )
    assert "install the demo model" not in line and "`tg-edge models list`" in line
    near = run_cli("translate", "-s", "en", "-t", "de", "-m", "translategema-4b", "Hello")
    assert near.returncode == 1 and b"did you mean 'translategemma-4b'?" in near.stderr


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("klingonx", "did you mean 'tlh' (Klingon)?"),
        ("germann", "did you mean 'de'?"),
        ("frenchy", "did you mean 'fr'?"),
    ],
)
def test_a_near_miss_language_name_gets_did_you_mean_not_a_language(query: str, expected: str) -> None:
    run = run_cli("languages", query)
    assert run.returncode == 2 and run.stdout == b""
    assert run.stderr.decode().startswith(f"Error: unknown language '{query}'; {expected}")


@pytest.mark.parametrize(
    ("name", "code"), [("klingon", "tlh"), ("Bairisch", "bar"), ("Brazilian Portuguese", "pt-BR")]
)
def test_language_names_still_resolve(name: str, code: str) -> None:
    run = run_cli("languages", name)
    assert run.returncode == 0 and run.stdout.decode().split()[0] == code


def test_shell_completion_works_as_the_readme_says() -> None:
    said = re.search(
        r'eval "\$\((_TG_EDGE_COMPLETE=bash_source) tg-edge\)"', (DOCS / "cli.md").read_text(encoding="utf-8")
    )
    assert said, "docs/cli.md documents bash completion"
    script = Path(sys.executable).parent / "tg-edge"
    env = dict(os.environ, _TG_EDGE_COMPLETE="bash_source")
    source = subprocess.run([str(script)], env=env, capture_output=True, timeout=60)
    assert source.returncode == 0 and b"_tg_edge_completion()" in source.stdout
    env = dict(os.environ, _TG_EDGE_COMPLETE="bash_complete", COMP_WORDS="tg-edge tr", COMP_CWORD="1")
    complete = subprocess.run([str(script)], env=env, capture_output=True, timeout=60)
    assert complete.stdout.decode().splitlines() == ["plain,translate"]


@pytest.mark.integration
def test_image_translation_with_a_model_that_cannot_read_images_is_a_usage_error(
    translator: object, tmp_path: Path
) -> None:
    from PIL import Image

    Image.new("RGB", (32, 16)).save(tmp_path / "dog.png")
    run = run_cli(
        "translate", "-s", "en", "-t", "de", "--image", str(tmp_path / "dog.png"), translator=translator
    )
    [line] = run.stderr.decode().splitlines()
    assert run.returncode == 2 and run.stdout == b""
    assert line.startswith("Error: ") and "cannot read images" in line and "translategemma" in line


@pytest.mark.integration
def test_show_prompt_ends_with_a_newline(translator: object) -> None:
    run = run_cli("translate", "-s", "en", "-t", "de", "--show-prompt", "Hello there", translator=translator)
    prompt = translator.render_prompt("Hello there", source="en", target="de")  # type: ignore[attr-defined]
    assert run.returncode == 0 and not prompt.endswith("\n") and run.stdout.decode() == prompt + "\n"


@pytest.mark.integration
def test_warnings_of_a_job_of_several_files_name_the_file(translator: object, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in (("a.txt", "Q:\n"), ("b.txt", "A:\n")):  # the demo model answers them with nothing
        (docs / name).write_text(text, encoding="utf-8")
    run = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-i",
        str(docs),
        "-o",
        str(tmp_path / "out"),
        translator=translator,
    )
    warnings = [line for line in run.stderr.decode().splitlines() if line.startswith("WARNING:")]
    assert run.returncode == 0
    assert [line.split(": ")[1] for line in warnings] == [str(docs / "a.txt"), str(docs / "b.txt")]


@pytest.mark.integration
@pytest.mark.parametrize("page", [README, DOCS / "python-api.md"], ids=["README", "python-api"])
def test_the_first_python_example_runs_when_pasted(page: Path, tmp_path: Path) -> None:
    text = page.read_text(encoding="utf-8")
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    run = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        capture_output=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=str(README.parent)),
    )
    assert run.returncode == 0 and b"Traceback" not in run.stderr, run.stderr.decode()
    lines = run.stdout.decode().splitlines()
    assert lines[0].strip() and not any(line.rstrip().endswith("[]") for line in lines)


@pytest.mark.integration
def test_a_successful_ray_run_prints_no_notice_that_reads_like_a_failure(
    demo_model: Path, tmp_path: Path
) -> None:
    pytest.importorskip("ray")
    data = tmp_path / "in.jsonl"
    data.write_text('{"q": "Good morning."}\n', encoding="utf-8")
    run = spawn_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "en",
        "--ray",
        "--replicas",
        "1",
        "--threads",
        "1",
        "-i",
        str(data),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--fields",
        "q",
        env={"TG_EDGE_MODEL": str(demo_model)},
    )
    err = run.stderr.decode()
    assert run.returncode == 0, err
    assert "Token authentication" not in err and "WARNING" not in err and "Traceback" not in err
    assert (tmp_path / "out.jsonl").read_bytes() == data.read_bytes()
