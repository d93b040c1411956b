"""The server's refusals that need no model: a taken port, bad key files, requests refused before translating.

The translator behind these servers is :class:`Unreachable`: any use of it fails the test, which is
how these tests prove a request (or ``tg-edge serve``) was refused before a model was needed.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tg_edge.cli import main
from tg_edge.languages.profiles import accepted_language
from tg_edge.server.errors import ErrorShapes

from .conftest import modules_after_help
from .servers import call, multipart, running_server


class Unreachable:
    """Stands where a translator would; the requests under test must never get that far."""

    model_path = Path("none.gguf")
    profile = "fewshot"

    def language(self, language: object) -> object:
        return accepted_language(language, self.profile)  # checking a language is no translation

    def translate_many(self, *args: object, **kwargs: object) -> list:
        raise AssertionError("the request reached the translator")

    translate_documents = translate_many


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running_server(Unreachable()) as (running, _):
        yield running


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.fixture
def unloadable_model(tmp_path: Path) -> Path:
    """A file that passes the model path checks (GGUF magic) but that llama.cpp would refuse to load."""
    path = tmp_path / "unloadable.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 60)
    return path


def test_serve_on_a_taken_port_fails_before_loading_the_model(
    taken_port: int, unloadable_model: Path
) -> None:
    # Loading this model would fail with "llama.cpp could not load"; the port error comes first.
    result = CliRunner().invoke(main, ["serve", "--port", str(taken_port), "--model", str(unloadable_model)])
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: cannot listen on 127.0.0.1:{taken_port}: ")  # then the OS's reason
    assert result.stdout == ""


def test_serve_checks_its_key_file_before_the_port_and_the_model(
    taken_port: int, unloadable_model: Path, tmp_path: Path
) -> None:
    args = ["serve", "--port", str(taken_port), "--model", str(unloadable_model)]
    missing = CliRunner().invoke(main, [*args, "--api-keys", str(tmp_path / "none.txt")])
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: cannot read the API key file")
    assert len(missing.stderr.splitlines()) == 1
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    no_keys = CliRunner().invoke(main, [*args, "--api-keys", str(empty)])
    assert no_keys.exit_code == 1 and "holds no keys" in no_keys.stderr


def test_serve_loads_the_model_once_the_port_is_bound(unloadable_model: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--model", str(unloadable_model)])
    assert result.exit_code == 1 and "llama.cpp could not load" in result.stderr
    assert "Traceback" not in result.output


def test_jsonl_without_fields_names_the_form_field_not_the_cli_flag(url: str) -> None:
    record = b'{"id": 3, "q": "Thank you very much."}\n'
    body, headers = multipart({"source": "en", "target": "de"}, "file", "data.jsonl", record)
    missing = call("POST", f"{url}/translate_file", body, headers=headers)
    assert missing.status == 400
    error = missing.json()["error"]
    assert "needs the form field 'fields'" in error and "fields=instruction,output" in error
    assert "--fields" not in error
    body, headers = multipart(
        {"source": "en", "target": "de", "fields": "meta..title"}, "file", "data.jsonl", record
    )
    bad = call("POST", f"{url}/translate_file", body, headers=headers)
    assert bad.status == 400 and "bad fields field 'meta..title'" in bad.json()["error"]
    assert "--fields" not in bad.json()["error"]


def test_refusals_before_translation_take_libretranslates_error_shape(url: str) -> None:
    assert call("POST", f"{url}/translate", {"source": "en", "target": "de"}).json() == {
        "error": "Invalid request: missing q parameter"
    }
    assert call("POST", f"{url}/translate", {"q": "Hi", "source": "en", "target": "xx"}).status == 400
    assert call("GET", f"{url}/nope").json() == {"error": "Not Found"}
    health = call("GET", f"{url}/health").json()
    assert health["status"] == "ok" and health["requests"] == 0


def test_each_api_answers_errors_in_its_own_shape() -> None:
    shapes = ErrorShapes()
    shapes.add("/", lambda message: {"error": message})
    shapes.add("/v2", lambda message: {"message": message})
    assert shapes.response("/translate", 400, "bad").body == b'{"error":"bad"}'
    assert shapes.response("/v2/translate", 400, "bad").body == b'{"message":"bad"}'
    assert ErrorShapes().response("/x", 404, "gone").body == b'{"detail":"gone"}'


def test_help_of_serve_and_models_imports_no_server_stack() -> None:
    watch = ("llama_cpp", "fastapi", "uvicorn", "starlette", "huggingface_hub", "py3langid")
    assert modules_after_help(["serve", "--help"], watch) == []
    assert modules_after_help(["models", "pull", "--help"], watch) == []
    assert modules_after_help(["--help"], watch) == []
