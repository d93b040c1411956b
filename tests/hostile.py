"""Hostile and tiny documents for the limit, server-hardening and fuzz tests, made in memory."""

from __future__ import annotations

import io
import zipfile
from functools import cache

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def document_xml(paragraphs: list[str]) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W_NS}">'
        f"<w:body>{body}</w:body></w:document>"
    ).encode()


def minimal_docx(paragraphs: list[str], *, xml: bytes | None = None) -> bytes:
    """The smallest DOCX tg-edge reads: content types and a main document of ``paragraphs`` (or ``xml``)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", xml if xml is not None else document_xml(paragraphs))
    return out.getvalue()


@cache
def inflating_docx(paragraphs: int = 9_000_000) -> bytes:
    """About 1 MB of ZIP whose word/document.xml inflates to ~370 MB: ``paragraphs`` short paragraphs."""
    out = io.BytesIO()
    block = b"<w:p><w:r><w:t>Hi there</w:t></w:r></w:p>" * 10_000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(f'<w:document xmlns:w="{W_NS}"><w:body>'.encode())
            for _ in range(paragraphs // 10_000):
                part.write(block)
            part.write(b"</w:body></w:document>")
    return out.getvalue()
