"""Commands that load no model import no llama.cpp: `tg-edge --help`, `translate --help`, `models list`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tg_edge.gguf_header import FILE_TYPES, quant_name

from .conftest import modules_after_help
from .hub import tiny_gguf


@pytest.mark.parametrize(
    "args", [["--help"], ["translate", "--help"], ["models", "--help"], ["doctor", "--help"]]
)
def test_help_imports_no_llama_cpp(args: list[str]) -> None:
    assert modules_after_help(args, ("llama_cpp",)) == []


def test_models_list_names_quants_without_llama_cpp(isolated_home: Path) -> None:
    models = isolated_home / "tg-edge" / "models"
    models.mkdir(parents=True)
    (models / "tiny.gguf").write_bytes(tiny_gguf(15))  # no quant in the name: only the header names it
    code = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from tg_edge.cli import main\n"
        "r = CliRunner().invoke(main, ['models', 'list', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(json.dumps({'listed': json.loads(r.output), 'llama_cpp': 'llama_cpp' in sys.modules}))\n"
    )
    out = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    assert [(m["path"], m["quant"]) for m in out["listed"]["installed"]] == [
        (str(models / "tiny.gguf"), "Q4_K_M")
    ]
    assert out["llama_cpp"] is False


def test_file_type_table_matches_llama_cpp() -> None:
    """The static table names every file type llama-cpp-python exports, with the same value."""
    import llama_cpp

    exported = {
        value: name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_").removeprefix("ALL_")
        for name, value in vars(llama_cpp).items()
        if name.startswith("LLAMA_FTYPE_") and isinstance(value, int) and name != "LLAMA_FTYPE_GUESSED"
    }
    assert dict(FILE_TYPES) == exported


@pytest.mark.parametrize(
    ("file_type", "file_name", "expected"),
    [
        (15, None, "Q4_K_M"),
        (32, "x.Q8_0.gguf", "BF16"),  # the header wins over the file name
        (None, "model-q2_k_s.gguf", "Q2_K_S"),  # the longest name the file name holds, not Q2_K
        (None, "translategemma-4b-it.IQ4_XS.gguf", "IQ4_XS"),
        (1024, "model.gguf", "unknown"),
        (None, None, "unknown"),
    ],
)
def test_quant_name(file_type: int | None, file_name: str | None, expected: str) -> None:
    assert quant_name(file_type, Path(file_name) if file_name else None) == expected
