"""DOCX (Word) documents: the text of the body, tables, headers, footers, footnotes, endnotes and
comments is translated; everything else (styles, images, fields, numbering, other ZIP entries) is kept.

A DOCX file is a ZIP archive of XML parts; the parts holding text are found through
``[Content_Types].xml`` and parsed with lxml, which keeps their namespaces and attributes as they
are. In each paragraph, neighbouring runs with the same formatting (spelling and revision marks
aside) form one segment, so a bold word keeps its bold; tabs, line breaks, drawings and other
inline objects end a segment and stay where they are. A translation is written into the first
text element of its runs and the others are emptied. Parts with no changed segment are copied
byte for byte, so an identity translation gives the input file back exactly.

Segment "lines" are paragraph numbers (1-based, in the order the parts are read).

A ZIP's declared sizes are checked before anything is inflated (the entry count, the total, each
entry's compression ratio), and its text parts are inflated a piece at a time into lxml's pull
parser, counting the bytes actually inflated and the text found against the reader's
:class:`~tg_edge.formats.Limits`: a "ZIP bomb" is refused before it costs memory, and a document
over the character limit stops being read at the paragraph that passes it.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..errors import InputError, InputTooLarge
from . import _HAS_WORD, Limits, Segment, Tally

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_TEXT_PARTS = re.compile(
    r"application/vnd\.(?:openxmlformats-officedocument\.wordprocessingml|ms-word\.(?:document|template)"
    r"\.macroEnabled)\.(?:document\.main|template\.main|main|header|footer|footnotes|endnotes|comments)\+xml$"
)
# Run properties that mark spelling, language or revisions, not how the text looks.
_NOT_FORMATTING = {f"{{{_W}}}{name}" for name in ("lang", "noProof", "rPrChange", "webHidden")}
# Run children that neither hold text nor interrupt it.
_INSIDE_TEXT = {f"{{{_W}}}{name}" for name in ("rPr", "lastRenderedPageBreak", "proofErr")}
_PARSER_OPTIONS: dict[str, Any] = {  # lxml's parser keyword arguments
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": True,
    "remove_blank_text": False,
}
_PARSER = etree.XMLParser(**_PARSER_OPTIONS)
_MAX_ENTRIES = 10_000  # a Word document has tens of parts; hundreds with many images
_MAX_RATIO = 100  # inflated / compressed; Word's XML rarely passes 20, Apache POI refuses past 100 too
_RATIO_FROM = 1 << 20  # entries that inflate to less than this are never refused for their ratio
_PIECE = 1 << 16  # bytes inflated at a time
# What zipfile raises on a damaged archive (found by fuzzing: a bad header seeks to -3, a bad stream is zlib's).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    KeyError,
    NotImplementedError,
    OSError,
    EOFError,
    ValueError,
    OverflowError,
    RuntimeError,
    zlib.error,
    struct.error,
)


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


@dataclass
class _Place:
    """Where one segment lives: its part, its text elements and their original texts."""

    part: str
    texts: list[etree._Element]
    originals: list[str]
    lead: str
    trail: str


@dataclass
class DocxDocument:
    """Segments of a DOCX file; :meth:`render` writes a DOCX file (bytes) with translations in place."""

    data: bytes
    name: str
    segments: list[Segment] = field(default_factory=list)
    _places: list[_Place] = field(default_factory=list)
    _roots: dict[str, etree._Element] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The file's bytes as a string (one character per byte), for fingerprints."""
        return self.data.decode("latin-1")

    @property
    def parts_read(self) -> int:
        """How many text parts the reader has parsed whole so far."""
        return len(self._roots)

    def add(self, segment: Segment, place: _Place) -> None:
        """A segment the reader found, and where it lives."""
        self.segments.append(segment)
        self._places.append(place)

    def keep(self, part: str, root: etree._Element) -> None:
        """A text part the reader parsed whole: serialized again when a translation changes it."""
        self._roots[part] = root

    def render(self, translations: Sequence[str]) -> bytes:
        """The DOCX file with each segment replaced by its translation (unchanged parts keep their bytes)."""
        if len(translations) != len(self.segments):
            raise ValueError(f"{len(translations)} translations for {len(self.segments)} segments")
        changed: set[str] = set()
        for segment, place, translation in zip(self.segments, self._places, translations, strict=True):
            for element, original in zip(place.texts, place.originals, strict=True):
                element.text = original
            if translation == segment.text:
                continue
            changed.add(place.part)
            place.texts[0].text = place.lead + translation + place.trail
            place.texts[0].set(_XML_SPACE, "preserve")
            for element in place.texts[1:]:
                element.text = ""
        if not changed:
            return self.data
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive, zipfile.ZipFile(out, "w") as written:
            for info in archive.infolist():
                changed_part = info.filename in changed
                data = (
                    _serialize(self._roots[info.filename])
                    if changed_part
                    else _copy(archive, info, self.name)
                )
                written.writestr(info, data)
        return out.getvalue()


def read(data: bytes, name: str, *, limits: Limits | None = None) -> DocxDocument:
    """Read a DOCX file's bytes (``name`` is for messages) into a :class:`DocxDocument`.

    :class:`~tg_edge.errors.InputTooLarge` for an archive that would inflate absurdly (checked before
    inflating), :class:`~tg_edge.errors.TextLimitExceeded` past ``limits``' text limits.
    """
    limits = limits or Limits()
    document = DocxDocument(data, name)
    tally = Tally(limits, name)
    try:
        _check_entry_count(data, name)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_sizes(archive, name, limits)
            inflated = _Inflated(name, limits)
            paragraphs = [0]  # how many so far, in all parts
            for part in _text_parts(archive, name, inflated):
                parser = etree.XMLPullParser(events=("end",), tag=_w("p"), **_PARSER_OPTIONS)
                for piece in inflated.pieces(archive, part):
                    _feed(parser, piece, name, part)
                    _read_paragraphs(parser, document, part, paragraphs, tally)
                    if limits.cancel is not None:
                        limits.cancel.check()
                root = _close(parser, name, part)
                _read_paragraphs(parser, document, part, paragraphs, tally)
                if (
                    etree.QName(root).namespace != _W
                ):  # e.g. Strict Open XML: nothing would be found, silently
                    raise InputError(
                        f"{name}: its part {part} is not in the WordprocessingML namespace tg-edge "
                        f"reads ({etree.QName(root).namespace}); save it as a standard Word document"
                    )
                document.keep(part, root)
    except InputError:
        raise
    except _ZIP_ERRORS as exc:
        if isinstance(exc, zipfile.BadZipFile) and not document.parts_read and "CRC" not in str(exc):
            raise InputError(
                f"{name} is not a DOCX file: not a ZIP archive (an old .doc or a password-protected "
                "file? save it as .docx first)"
            ) from None
        raise InputError(f"{name} is not a readable DOCX file: {exc or type(exc).__name__}") from None
    return document


def _copy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """An entry kept as it is (its size was checked when the file was read); a damaged one is an InputError."""
    try:
        return archive.read(info)
    except _ZIP_ERRORS as exc:
        raise InputError(
            f"{name}: its entry {info.filename} is damaged ({exc}); the file cannot be written back"
        ) from None


def _read_paragraphs(
    parser: etree.XMLPullParser, document: DocxDocument, part: str, paragraphs: list[int], tally: Tally
) -> None:
    """The segments of the paragraphs the parser finished since the last call."""
    for _, p in parser.read_events():
        if not etree.iselement(p):  # events=("end",): elements only
            continue
        if _paragraph_of(p) is None:  # an outermost paragraph: the ones in its text boxes come with it
            for inner in p.iter(_w("p")):
                paragraphs[0] += 1
                for texts in _groups(inner):
                    _add(document, part, paragraphs[0], texts, tally)


def _check_entry_count(data: bytes, name: str) -> None:
    """Refuse an archive of absurdly many entries from its end record, before zipfile reads them all."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - (1 << 16) - 22))
    if end < 0 or end + 22 > len(data):
        return  # not a ZIP (zipfile says so) or a ZIP64 end: counted after opening
    entries, directory = struct.unpack_from("<HI", data, end + 10)
    if entries == 0xFFFF:
        entries = directory // 46  # a central directory entry takes at least 46 bytes
    if entries > _MAX_ENTRIES:
        raise InputTooLarge(
            f"{name} is a ZIP archive of {entries} entries; a DOCX file has far fewer "
            f"(at most {_MAX_ENTRIES} are read)"
        )


def _check_sizes(archive: zipfile.ZipFile, name: str, limits: Limits) -> None:
    """Refuse from the declared sizes, before inflating: too many entries, too much in all, absurd ratios."""
    infos = archive.infolist()
    if len(infos) > _MAX_ENTRIES:
        raise InputTooLarge(
            f"{name} is a ZIP archive of {len(infos)} entries; a DOCX file has far fewer "
            f"(at most {_MAX_ENTRIES} are read)"
        )
    for info in infos:
        if info.file_size > _RATIO_FROM and info.file_size > _MAX_RATIO * max(info.compress_size, 1):
            raise InputTooLarge(
                f"{name}: its entry {info.filename} would inflate {info.compress_size} bytes to "
                f"{info.file_size} (more than {_MAX_RATIO} times); refusing a file built to "
                "exhaust memory (a ZIP bomb)"
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_unpacked:
        raise InputTooLarge(
            f"{name} unpacks to {total} bytes, more than the {limits.max_unpacked} bytes "
            "allowed; refusing to read it"
        )


class _Inflated:
    """Inflates entries a piece at a time, counting the bytes actually produced against the limits."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self.total = 0

    def pieces(self, archive: zipfile.ZipFile, part: str) -> Iterator[bytes]:
        info = archive.getinfo(part)
        produced = 0
        with archive.open(info) as stream:
            while piece := stream.read(_PIECE):
                produced += len(piece)
                self.total += len(piece)
                if produced > info.file_size or self.total > self.limits.max_unpacked:
                    raise InputTooLarge(
                        f"{self.name}: its entry {part} inflates to more than it declares or "
                        f"than the {self.limits.max_unpacked} bytes allowed; refusing to read it"
                    )
                yield piece

    def read(self, archive: zipfile.ZipFile, part: str) -> bytes:
        return b"".join(self.pieces(archive, part))


def _text_parts(archive: zipfile.ZipFile, name: str, inflated: _Inflated) -> list[str]:
    """The archive's parts that hold document text, main document first, by their content types."""
    try:
        types = _parse(inflated.read(archive, "[Content_Types].xml"), name, "[Content_Types].xml")
    except KeyError:
        raise InputError(f"{name} is not a DOCX file: it has no [Content_Types].xml") from None
    names = set(archive.namelist())
    parts = {}  # part name → content type
    for override in types.iter(f"{{{_CT}}}Override"):
        part, content_type = override.get("PartName", "").lstrip("/"), override.get("ContentType", "")
        if _TEXT_PARTS.search(content_type) and part in names:
            parts[part] = content_type
    main = [part for part, content_type in parts.items() if ".main+xml" in content_type]
    if not main:
        raise InputError(f"{name} is not a DOCX file: it has no main document part (word/document.xml)")
    return main + sorted(part for part in parts if part not in main)


def _parse(data: bytes, name: str, part: str) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _not_xml(exc, name, part) from None


def _feed(parser: etree.XMLPullParser, piece: bytes, name: str, part: str) -> None:
    try:
        parser.feed(piece)
    except etree.XMLSyntaxError as exc:
        raise _not_xml(exc, name, part) from None


def _close(parser: etree.XMLPullParser, name: str, part: str) -> etree._Element:
    try:
        return parser.close()
    except etree.XMLSyntaxError as exc:
        raise _not_xml(exc, name, part) from None


def _not_xml(exc: etree.XMLSyntaxError, name: str, part: str) -> InputError:
    return InputError(f"{name}: its part {part} is not well-formed XML (line {exc.lineno}): {exc.msg}")


def _groups(paragraph: etree._Element) -> list[list[etree._Element]]:
    """The ``w:t`` elements of the paragraph's own runs, grouped by formatting and cut at inline objects."""
    groups: list[list[etree._Element]] = []
    current: list[etree._Element] = []
    key: object = None
    for run in paragraph.iter(_w("r")):
        if _paragraph_of(run) is not paragraph or _deleted(run):
            continue
        run_key = _formatting(run)
        if run_key != key and current:
            groups.append(current)
            current = []
        key = run_key
        for child in run:
            if child.tag == _w("t"):
                current.append(child)
            elif child.tag not in _INSIDE_TEXT and current:
                groups.append(current)  # a tab, break, drawing, field mark or note reference ends the segment
                current = []
    if current:
        groups.append(current)
    return groups


def _paragraph_of(run: etree._Element) -> etree._Element | None:
    for ancestor in run.iterancestors():
        if ancestor.tag == _w("p"):
            return ancestor
    return None


def _deleted(run: etree._Element) -> bool:
    return any(ancestor.tag in (_w("del"), _w("moveFrom")) for ancestor in run.iterancestors())


def _formatting(run: etree._Element) -> tuple[object, bytes]:
    """What a run looks like and where it links to: runs that differ here are translated apart."""
    link = next((a for a in run.iterancestors() if a.tag == _w("hyperlink")), None)
    properties = run.find(_w("rPr"))
    if properties is None:
        return link, b""
    kept = [etree.tostring(child) for child in properties if child.tag not in _NOT_FORMATTING]
    return link, b"".join(kept)


def _add(
    document: DocxDocument, part: str, paragraph: int, texts: list[etree._Element], tally: Tally
) -> None:
    originals = [element.text or "" for element in texts]
    whole = "".join(originals)
    stripped = whole.strip()
    if not _HAS_WORD.search(stripped):
        return
    lead = whole[: len(whole) - len(whole.lstrip())]
    trail = whole[len(whole.rstrip()) :]
    segment = Segment(" ".join(stripped.split()), paragraph)
    tally.add(segment.text)
    document.add(segment, _Place(part, texts, originals, lead, trail))


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
