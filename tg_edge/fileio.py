"""Reading input files strictly; writing outputs atomically, or into a device or pipe as it is."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from .errors import InputError, OutputConflict, TgEdgeError
from .filetypes import HEAD_BYTES, refuse_unreadable


def read_text_file(path: Path) -> str:
    """A UTF-8 text file's content; a file of a format tg-edge does not read (PDF, Parquet, ...: see
    :mod:`tg_edge.filetypes`), a binary or a badly encoded file is an :class:`InputError` naming it."""
    data = read_binary_file(path)
    refuse_unreadable(path, data[:HEAD_BYTES])
    check_not_binary(data[:8192], str(path))
    return decode_utf8(data, str(path))


def read_binary_file(path: Path) -> bytes:
    """A file's bytes; a file that cannot be read is an :class:`InputError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def check_not_binary(data: bytes, name: str, first_line: int = 1) -> None:
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + first_line
        raise InputError(f"{name} looks like a binary file (a NUL byte on line {line}), not text")


def decode_utf8(data: bytes, name: str, first_line: int = 1) -> str:
    """Decode input strictly, naming the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + first_line
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"{name} is not valid UTF-8: byte 0x{data[exc.start]:02x} at line {line}, column {column}"
        ) from None


def is_stream(path: Path | str) -> bool:
    """Whether ``path`` names something other than a regular file or a directory: a character or block device
    (``/dev/null``), a FIFO or pipe (``/dev/stdout``, ``/dev/fd/N`` from ``>(cmd)``), a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_output(path: Path, text: str | bytes) -> None:
    """Write an output: a regular file atomically (readers see the old file or the whole new one, never a
    part); a device, FIFO or socket is written into as it is, never replaced by a file."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if is_stream(path):
        handle = open_output_stream(path)
        try:
            _write(handle, data, str(path))
        finally:
            with contextlib.suppress(OSError):  # what a failed write left buffered fails again: said already
                handle.close()
        return
    _replace_atomically(path, data)


def open_output_stream(path: Path) -> BinaryIO:
    """A device, FIFO or socket opened for writing (a FIFO waits for its reader); a one-line error if it cannot be."""
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.connect(str(path))
            return connection.makefile("wb")
        return open(path, "wb")  # the caller closes it
    except OSError as exc:
        raise TgEdgeError(f"cannot write {path}: {exc.strerror}") from None


def write_stdout(text: str, stream: TextIO | None = None) -> None:
    """Write ``text`` to standard output (or ``stream``) and flush it; a failed write (a full disk, a closed
    pipe) is a one-line :class:`TgEdgeError`, and what stays buffered is dropped rather than failing again at
    exit."""
    out = stream or sys.stdout
    try:
        out.write(text)
        out.flush()
    except OSError as exc:
        _drop_buffered(out)
        raise TgEdgeError(f"cannot write to standard output: {exc.strerror or exc}") from None


def check_output(output: Path | str, inputs: Sequence[Path] = ()) -> None:
    """Refuse an output before any work: one that is one of ``inputs`` (also through a link), or one whose
    directory cannot be written (the output and its journal go there)."""
    path = Path(output)
    for item in inputs:
        if same_file(item, path):
            raise OutputConflict(
                f"the output {path} is the input {item}: inputs are never overwritten; choose another -o"
            )
    if is_stream(path):
        if not os.access(path, os.W_OK):
            raise TgEdgeError(f"cannot write {path}: permission denied")
        return
    if path.is_dir():
        _check_writable_directory(path, path)
        return
    _check_writable_directory(path.parent if str(path.parent) else Path("."), path)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the same regular file (the same path, a symbolic or a hard link)."""
    try:
        return stat.S_ISREG(os.stat(b).st_mode) and os.path.samefile(a, b)
    except OSError:
        return False


def _check_writable_directory(directory: Path, output: Path) -> None:
    """The directory ``output`` goes into, or its nearest existing ancestor (it is made when missing), must be a
    directory this process may write to."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise TgEdgeError(f"cannot write {output}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise TgEdgeError(f"cannot write {output}: no permission to write in {existing}")


def _replace_atomically(path: Path, data: bytes) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise TgEdgeError(f"cannot write {path}: {exc.strerror}") from None
    try:
        os.chmod(tmp, _file_mode(path))
        with os.fdopen(fd, "wb") as handle:
            _write(handle, data, str(path))
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TgEdgeError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(handle: BinaryIO, data: bytes, name: str) -> None:
    try:
        handle.write(data)
        handle.flush()
    except OSError as exc:
        raise TgEdgeError(f"cannot write {name}: {exc.strerror}") from None


def _drop_buffered(stream: TextIO) -> None:
    """Point a failed standard stream at /dev/null, so the interpreter's last flush of it does not fail again."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return  # not a real file (a test's capture): nothing flushes it at exit
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def _file_mode(path: Path) -> int:
    """The mode the file keeps (when it exists) or a new file gets under the umask (mkstemp's is 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
