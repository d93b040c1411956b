"""Where translations are written: devices and pipes written into (never replaced), inputs never overwritten,
outputs that cannot be written refused before any work, write failures in one line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tg_edge.errors import TgEdgeError
from tg_edge.fileio import check_output, write_output

from .conftest import run_cli

root_only = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making a device node needs root"
)


def device(path: Path, minor: int) -> Path:
    """A character device node of the memory driver (1, ``minor``: 3 null, 7 full) made here, not in /dev."""
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    return path


class FifoReader:
    """A FIFO with a thread reading everything written into it."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.data = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as handle:
            self.data = handle.read()

    def join(self) -> bytes:
        self._thread.join(timeout=30)
        return self.data


@root_only
def test_a_device_output_is_written_into_and_stays_a_device(tmp_path: Path) -> None:
    null = device(tmp_path / "null", 3)
    write_output(null, "Hallo Welt.\n")
    assert stat.S_ISCHR(null.stat().st_mode)
    # The command line too: whitespace-only input comes back without a model, through the same writer.
    proc = run_cli("translate", "-s", "en", "-t", "de", "-o", str(null), input=b"  \n")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(null.stat().st_mode) and not list(tmp_path.glob(".null*"))


def test_a_fifo_output_is_written_into_and_its_reader_gets_everything(tmp_path: Path) -> None:
    fifo = FifoReader(tmp_path / "out.fifo")
    write_output(fifo.path, "Hallo Welt.\n")
    assert fifo.join() == b"Hallo Welt.\n"
    assert stat.S_ISFIFO(fifo.path.stat().st_mode)
    again = FifoReader(tmp_path / "again.fifo")
    proc = run_cli("translate", "-s", "en", "-t", "de", "-o", str(again.path), input=b" \n\n")
    assert proc.returncode == 0, proc.stderr
    assert again.join() == b" \n\n" and stat.S_ISFIFO(again.path.stat().st_mode)


def test_a_process_substitution_pipe_is_written_into(tmp_path: Path) -> None:
    """``-o >(cmd)``: the shell hands over /dev/fd/N, a pipe with no directory to put a temporary file in."""
    read_end, write_end = os.pipe()
    try:
        write_output(Path(f"/proc/self/fd/{write_end}"), "Hallo\n")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"Hallo\n"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


@pytest.mark.parametrize(
    "mode",
    [[], ["--json"], ["--stream"], ["--show-prompt"], ["--format", "txt"], ["--fields", "text"]],
    ids=["text", "json", "stream", "show-prompt", "format", "jsonl"],
)
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_an_output_that_is_the_input_is_refused_in_every_mode_before_a_model_loads(
    tmp_path: Path, mode: list[str], link: str
) -> None:
    name = "in.jsonl" if "--fields" in mode else "in.txt"
    source = tmp_path / name
    original = b'{"text": "Hello world."}\n' if "--fields" in mode else b"Hello world.\n"
    source.write_bytes(original)
    out = source if link == "same" else tmp_path / f"out{source.suffix}"
    if link == "symlink":
        out.symlink_to(source)
    elif link == "hardlink":
        os.link(source, out)
    proc = run_cli(
        "translate", "-s", "en", "-t", "de", "-m", str(tmp_path / "absent.gguf"), "-i", str(source),
        "-o", str(out), *mode,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr  # refused before the (absent) model is looked for
    assert proc.stderr.count(b"\n") == 1 and b"inputs are never overwritten" in proc.stderr
    assert source.read_bytes() == original


def test_a_dataset_output_that_is_its_input_is_refused_before_ray(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_bytes(b'{"text": "Hi"}\n')
    proc = run_cli(
        "translate", "-s", "en", "-t", "de", "-i", str(data), "-o", str(data), "--fields", "text", "--ray"
    )
    assert proc.returncode == 2 and b"inputs are never overwritten" in proc.stderr


def test_an_output_under_a_file_is_refused_before_a_model_loads(tmp_path: Path) -> None:
    source = tmp_path / "in.md"
    source.write_text("# Hello\n", encoding="utf-8")
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    for mode in ([], ["--json"]):
        proc = run_cli(
            "translate", "-s", "en", "-t", "de", "-m", str(tmp_path / "absent.gguf"), "-i", str(source),
            "-o", str(blocker / "sub" / "out.md"), *mode,
        )  # fmt: skip
        assert proc.returncode == 1
        assert (
            proc.stderr
            == f"Error: cannot write {blocker / 'sub' / 'out.md'}: {blocker} is not a directory\n".encode()
        )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_directory_is_refused_before_a_model_loads(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(TgEdgeError, match="no permission to write in"):
            check_output(locked / "out.md")
        source = tmp_path / "in.md"
        source.write_text("# Hello\n", encoding="utf-8")
        proc = run_cli(
            "translate", "-s", "en", "-t", "de", "-m", str(tmp_path / "absent.gguf"), "-i", str(source),
            "-o", str(locked / "out.md"),
        )  # fmt: skip
        assert proc.returncode == 1 and b"no permission to write in" in proc.stderr
    finally:
        locked.chmod(0o700)


@root_only
def test_a_full_stdout_is_one_line_and_no_traceback(tmp_path: Path) -> None:
    full = device(tmp_path / "full", 7)
    with open(full, "wb") as stdout:
        proc = subprocess.run(
            [sys.executable, "-m", "tg_edge", "translate", "-s", "en", "-t", "de"],
            input=b"   \n" * 5000,  # whitespace: comes back without a model, and more than a buffer's worth
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert proc.returncode == 1
    assert proc.stderr == b"Error: cannot write to standard output: No space left on device\n"


@root_only
def test_a_full_output_device_is_one_line(tmp_path: Path) -> None:
    full = device(tmp_path / "full", 7)
    proc = run_cli("translate", "-s", "en", "-t", "de", "-o", str(full), input=b"  \n")
    assert proc.returncode == 1
    assert proc.stderr == f"Error: cannot write {full}: No space left on device\n".encode()
    assert stat.S_ISCHR(full.stat().st_mode)
