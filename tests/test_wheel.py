"""The wheel built from this checkout: FLORES inside it, read from anywhere; the converter as tg_edge.convert."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tg_edge.bench.flores import load_flores

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "tg_edge" / "bench" / "data" / "flores200"


@dataclass(frozen=True)
class Wheel:
    names: set[str]
    """The files in the wheel."""
    installed: Path
    """Where it was unpacked (a directory to put on PYTHONPATH)."""
    elsewhere: Path
    """An empty working directory outside the checkout."""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    """Build the wheel from a copy of this checkout (links kept as links) and unpack it."""
    pytest.importorskip("setuptools", minversion="77")  # the build-system requirement (PEP 639 license-files)
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for tree in ("tg_edge", "convert"):
        shutil.copytree(REPO / tree, source / tree, ignore=ignore, symlinks=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    build = "import sys\nfrom setuptools import build_meta\nprint(build_meta.build_wheel(sys.argv[1]))\n"
    done = subprocess.run(
        [sys.executable, "-c", build, str(tmp_path / "dist")], cwd=source, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "dist" / done.stdout.split()[-1]) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "installed")
    (tmp_path / "elsewhere").mkdir()
    return Wheel(names, tmp_path / "installed", tmp_path / "elsewhere")


def _run_installed(wheel: Wheel, code: str) -> list[str]:
    """``code`` run with the unpacked wheel first on the path, from a directory outside the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "TG_EDGE_FLORES"}
    env["PYTHONPATH"] = str(wheel.installed)
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=wheel.elsewhere, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.splitlines()


def test_the_wheel_carries_the_data_and_reads_it_from_anywhere(wheel: Wheel) -> None:
    shipped = {
        f"tg_edge/bench/data/flores200/{p.relative_to(SHIPPED).as_posix()}"
        for p in SHIPPED.rglob("*")
        if p.is_file()
    }
    assert shipped <= wheel.names and len(shipped) == 17
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel.names)

    read = (
        "import tg_edge\nfrom tg_edge.bench.flores import load_flores\n"
        "print(tg_edge.__file__)\nprint(load_flores('ja', 1, start=7)[0])\n"
    )
    module, line = _run_installed(wheel, read)
    assert Path(module).is_relative_to(wheel.installed)
    assert line == load_flores("ja", 1, start=7)[0]


def test_the_wheel_installs_the_converter_as_tg_edge_convert(wheel: Wheel) -> None:
    sources = {f"tg_edge/convert/{p.name}" for p in (REPO / "convert").glob("*.py")}
    assert len(sources) >= 8 and sources <= wheel.names
    assert not [name for name in wheel.names if name.startswith("convert/")]  # no top-level `convert`

    run = (
        "import sys\nfrom click.testing import CliRunner\nfrom tg_edge.cli import main\n"
        "result = CliRunner().invoke(main, ['convert', '--help'])\n"
        "print(result.exit_code)\nprint(result.output.splitlines()[0])\n"
        "print(sys.modules['tg_edge.convert.cli'].__file__)\n"
    )
    status, usage, module = _run_installed(wheel, run)
    assert (status, usage) == ("0", "Usage: tg-edge convert [OPTIONS] CHECKPOINT")
    assert Path(module).is_relative_to(wheel.installed)
