"""Reading input files strictly and writing outputs atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError, TgEdgeError
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


def check_not_binary(data: bytes, name: str) -> None:
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
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


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write ``text`` (or bytes) to ``path`` so readers see the old file or the whole new one, never a part."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise TgEdgeError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        os.chmod(tmp, _file_mode(path))
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """The mode the file keeps (when it exists) or a new file gets under the umask (mkstemp's is 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
