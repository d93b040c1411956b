"""Uploaded files: which formats are read, and their translation (:func:`translate_upload`, for every API);
:mod:`.filestore` keeps the results until their client downloads them."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from .. import formats
from ..languages import Language
from .admission import current_cancellation
from .parsing import check_limits, document_limits, upload_text
from .service import Service
from .translation import Progress

if TYPE_CHECKING:
    from ..glossary import Glossary


def file_format(filename: str) -> str | None:
    """The tg-edge format of an uploaded file by its extension, or None when tg-edge cannot read it."""
    return (
        formats.format_for(filename)
        if PurePath(filename).suffix.lower() in formats.known_suffixes()
        else None
    )


def document_extensions() -> list[str]:
    """The file extensions tg-edge reads, sorted."""
    return sorted(formats.known_suffixes())


def translate_upload(
    service: Service,
    data: bytes,
    filename: str,
    file_format: str,
    *,
    source: Language | None,
    target: Language,
    options: dict[str, Any],
    guess: bool = False,
    limit_status: int = 400,
    progress: Progress | None = None,
    terms: Glossary | None = None,
) -> tuple[bytes, int]:
    """An uploaded file translated into the same format, and its characters of source text (blocks: run it on
    a worker). ``source`` None: detected (``guess``: the best guess, never a refusal); ``progress`` hears how
    many segments are done."""
    if file_format == "pdf":
        from ..formats.pdf import check_target

        check_target(target)  # a script the PDF fonts lack: refused, not drawn as missing glyphs
    content = data if file_format in formats.BINARY else upload_text(data, filename)
    # Read within the limits: a file over them stops being read where it passes one (400 or 413).
    limits = document_limits(service.settings, current_cancellation())
    document = formats.read(content, filename, file_format, limits=limits, **options)
    texts = [segment.text for segment in document.segments]
    check_limits(texts, service.settings, status=limit_status)
    if source is None and guess and texts:
        source = service.translation.guess_source(texts).language
    rendered = service.translation.translate_documents(
        [document], source=source, target=target, progress=progress, terms=terms
    )[0][0]
    return rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"), sum(len(t) for t in texts)
