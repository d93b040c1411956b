"""Files of formats tg-edge does not read, told apart by their first bytes or their name, each with what to do.

Without this a PDF or a Parquet file read as plain text fails as "a binary file (a NUL byte on line 19)". The
table here names the format instead, and says what to do about it. It is consulted only for files that would
otherwise be read as text (an unknown extension, or a text format's extension on a binary file), and for the
files of a directory that a job passes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


@dataclass(frozen=True)
class FileType:
    """A file format tg-edge does not read, how to recognise it, and what to do instead."""

    name: str
    """What the file is, after "a" (and with an "s" after it, what several are): ``PDF file``."""
    advice: str
    suffixes: tuple[str, ...] = ()
    magic: tuple[tuple[int, bytes], ...] = ()
    """(offset, bytes) any one of which the file's first bytes hold."""


_OFFICE = "save it as DOCX (Word) and translate that"
_MEDIA = "tg-edge translates text, subtitles (SRT, WebVTT) and the text in images, not sound or video"

UNREADABLE = (
    # A .pdf file is a document of formats/pdf.py; these bytes met where text is read need a file job.
    FileType(
        "PDF file",
        "translate it as a file named .pdf: -i FILE.pdf -o OUT.pdf (or -o OUT.md for its text)",
        (),
        ((0, b"%PDF-"),),
    ),
    FileType(
        "Parquet dataset",
        "translate it on Ray with --ray (needs the ray extra), e.g. "
        "tg-edge translate --ray -s SRC -t TGT -i FILE.parquet -o OUT.parquet --fields NAMES",
        (".parquet",),
        ((0, b"PAR1"),),
    ),
    FileType("GGUF model file", "give a model with -m/--model, not -i", (".gguf",), ((0, b"GGUF"),)),
    FileType(
        "legacy Microsoft Office file",
        _OFFICE,
        (".doc", ".dot", ".xls", ".ppt", ".msg"),
        ((0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),),
    ),
    FileType("Excel workbook", "export its text (CSV is read as plain text)", (".xlsx", ".xlsm")),
    FileType("PowerPoint presentation", _OFFICE.replace("DOCX (Word)", "text or HTML"), (".pptx", ".pptm")),
    FileType("OpenDocument file", _OFFICE, (".odt", ".ods", ".odp", ".ott")),
    FileType("EPUB book", "convert it to HTML or DOCX and translate that", (".epub",)),
    FileType("RTF document", _OFFICE, (".rtf",), ((0, b"{\\rtf"),)),
    FileType(
        "compressed archive",
        "unpack it and translate the files inside (-i DIRECTORY takes them all)",
        (".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar"),
        (
            (0, b"PK\x03\x04"),
            (0, b"\x1f\x8b\x08"),
            (0, b"\xfd7zXZ\x00"),
            (0, b"7z\xbc\xaf\x27\x1c"),
            (0, b"Rar!\x1a\x07"),
            (0, b"\x28\xb5\x2f\xfd"),
            (257, b"ustar"),
        ),
    ),
    FileType(
        "image",
        "translate the text in it with --image FILE, or -i FILE without --format (needs a TranslateGemma "
        "model with its vision projector)",
        magic=((0, b"\x89PNG\r\n\x1a\n"), (0, b"\xff\xd8\xff"), (0, b"GIF87a"), (0, b"GIF89a"), (8, b"WEBP")),
    ),
    FileType(
        "audio or video file",
        _MEDIA,
        (".mp3", ".wav", ".flac", ".ogg", ".m4a", ".aac", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"),
        (
            (0, b"ID3"),
            (0, b"OggS"),
            (0, b"fLaC"),
            (8, b"WAVE"),
            (8, b"AVI "),
            (4, b"ftyp"),
            (0, b"\x1aE\xdf\xa3"),
        ),
    ),
    FileType(
        "executable program",
        "tg-edge translates documents, not programs",
        (".exe", ".dll", ".so", ".dylib", ".o", ".class", ".pyc", ".wasm"),
        ((0, b"\x7fELF"), (0, b"\xca\xfe\xba\xbe"), (0, b"\0asm")),
    ),
    FileType(
        "SQLite database",
        "export the text to translate (as JSONL, CSV or text) first",
        (".sqlite", ".sqlite3"),
        ((0, b"SQLite format 3\0"),),
    ),
)

HEAD_BYTES = 264
"""How much of a file's start :func:`unreadable_type` looks at (a tar header's magic sits at byte 257)."""


def unreadable_type(path: Path, head: bytes = b"") -> FileType | None:
    """The format ``path`` is in when it is one tg-edge does not read: by the file's first bytes (``head``),
    else by its extension; ``None`` for anything else."""
    for kind in UNREADABLE:
        if any(_holds(head, offset, magic) for offset, magic in kind.magic):
            return kind
    suffix = path.suffix.lower()
    return next((kind for kind in UNREADABLE if suffix in kind.suffixes), None)


def refuse_unreadable(path: Path, head: bytes) -> None:
    """:class:`InputError` naming the format and what to do, when ``path`` (whose first bytes are ``head``) is
    a file of a format tg-edge does not read."""
    kind = unreadable_type(path, head)
    if kind is not None:
        raise InputError(f"{path} is {_article(kind.name)} {kind.name}, not text: {kind.advice}")


def _holds(head: bytes, offset: int, magic: bytes) -> bool:
    """Whether ``head`` holds ``magic`` at ``offset``; a short magic of plain letters ("OggS", "PAR1") only in a
    head that also holds a NUL byte, so a text that happens to begin with those letters stays text."""
    if head[offset : offset + len(magic)] != magic:
        return False
    return len(magic) >= 5 or not all(0x20 <= byte < 0x7F for byte in magic) or b"\0" in head


def _article(name: str) -> str:
    return "an" if name[0].lower() in "aeiou" else "a"
