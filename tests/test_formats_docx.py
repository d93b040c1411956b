"""DOCX: real Word files made with python-docx, read into segments and written back.

An identity translation gives the file back byte for byte; a changed one changes only the text of
the parts that hold it, and every run keeps its formatting.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK

from tg_edge.errors import InputError
from tg_edge.formats import format_for, read

from .conftest import run_cli

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def make_docx() -> bytes:
    """A report with a heading, a bold word mid-sentence, a line break, a table, a header and a symbol line."""
    document = docx.Document()
    document.add_heading("Annual report", level=1)
    paragraph = document.add_paragraph("The weather was ")
    paragraph.add_run("very").bold = True
    paragraph.add_run(" good this year.")
    broken = document.add_paragraph("First line")
    broken.add_run().add_break(WD_BREAK.LINE)
    broken.add_run("Second line")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Name"
    table.cell(0, 1).text = "The red house"
    document.add_paragraph("— * —")
    document.sections[0].header.paragraphs[0].text = "Company confidential"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_docx_is_found_by_extension() -> None:
    assert format_for("Report.DOCX") == "docx" and format_for("macro.docm") == "docx"


def test_segments_follow_paragraphs_runs_tables_and_headers() -> None:
    document = read(make_docx(), "report.docx", "docx")
    assert [s.text for s in document.segments] == [
        "Annual report",
        "The weather was",
        "very",
        "good this year.",
        "First line",
        "Second line",
        "Name",
        "The red house",
        "Company confidential",
    ]
    assert [s.line for s in document.segments][:2] == [1, 2]  # paragraph numbers


def test_identity_translation_gives_the_file_back_byte_for_byte() -> None:
    data = make_docx()
    document = read(data, "report.docx", "docx")
    assert document.render([s.text for s in document.segments]) == data


def test_a_changed_translation_keeps_formatting_breaks_and_other_parts() -> None:
    data = make_docx()
    document = read(data, "report.docx", "docx")
    out = document.render([s.text.upper() for s in document.segments])
    translated = docx.Document(io.BytesIO(out))
    body = [p.text for p in translated.paragraphs]
    assert body[:4] == [
        "ANNUAL REPORT",
        "THE WEATHER WAS VERY GOOD THIS YEAR.",
        "FIRST LINE\nSECOND LINE",
        "— * —",
    ]
    assert [(run.text, bool(run.bold)) for run in translated.paragraphs[1].runs] == [
        ("THE WEATHER WAS ", False),
        ("VERY", True),
        (" GOOD THIS YEAR.", False),
    ]
    assert translated.paragraphs[0].style.name == "Heading 1"
    assert [cell.text for cell in translated.tables[0].rows[0].cells] == ["NAME", "THE RED HOUSE"]
    assert translated.sections[0].header.paragraphs[0].text == "COMPANY CONFIDENTIAL"
    before, after = entries(data), entries(out)
    assert list(after) == list(before)  # same parts, same order ([Content_Types].xml first)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"word/document.xml", "word/header1.xml"}
    # Reading the output again finds the same places, holding the translations.
    assert [s.text for s in read(out, "out.docx", "docx").segments] == [
        s.text.upper() for s in document.segments
    ]


def test_rendering_twice_starts_from_the_original_each_time() -> None:
    document = read(make_docx(), "report.docx", "docx")
    document.render(["x"] * len(document.segments))
    again = document.render([s.text for s in document.segments[:-1]] + ["Vertraulich"])
    assert [s.text for s in read(again, "again.docx", "docx").segments][-2:] == [
        "The red house",
        "Vertraulich",
    ]


def test_deleted_revisions_and_field_codes_are_not_translated() -> None:
    data = make_docx()
    parts = entries(data)
    xml = parts["word/document.xml"].decode("utf-8")
    inserted = (
        '<w:del w:id="1" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>Old words</w:delText>'
        '</w:r></w:del><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText>'
        '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    xml = xml.replace("<w:sectPr", f"<w:p>{inserted}<w:r><w:t>Page end</w:t></w:r></w:p><w:sectPr", 1)
    parts["word/document.xml"] = xml.encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    texts = [s.text for s in read(out.getvalue(), "fields.docx", "docx").segments]
    assert "Old words" not in texts and " PAGE " not in texts
    assert texts[-3:] == ["1", "Page end", "Company confidential"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Just some text, not a Word file.\n", "report.docx is not a DOCX file: not a ZIP archive"),
        ("zip-without-types", "report.docx is not a DOCX file: it has no [Content_Types].xml"),
        ("broken-xml", "report.docx: its part word/document.xml is not well-formed XML (line 2)"),
        ("strict", "report.docx: its part word/document.xml is not in the WordprocessingML namespace"),
    ],
)
def test_bad_docx_files_name_the_file_and_the_problem(content: bytes | str, message: str) -> None:
    if isinstance(content, str):
        parts = entries(make_docx())
        if content == "zip-without-types":
            del parts["[Content_Types].xml"]
        elif content == "strict":
            parts["word/document.xml"] = parts["word/document.xml"].replace(
                b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
                b"http://purl.oclc.org/ooxml/wordprocessingml/main",
            )
        else:
            parts["word/document.xml"] = b'<?xml version="1.0"?>\n<w:document><w:body></w:document>'
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
        content = buffer.getvalue()
    with pytest.raises(InputError, match=re.escape(message)):
        read(content, "report.docx", "docx")


@pytest.mark.integration
def test_cli_translates_a_docx_file_with_the_demo_model(demo_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "in" / "report.docx"
    source.parent.mkdir()
    source.write_bytes(make_docx())
    (tmp_path / "in" / "~$report.docx").write_bytes(b"\x0bWord's lock file while report.docx is open")
    out = tmp_path / "out" / "report.docx"
    proc = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--threads",
        "2",
        "-i",
        str(source.parent),
        "-o",
        str(out.parent),
        env={"TG_EDGE_MODEL": str(demo_model)},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert [p.name for p in out.parent.iterdir()] == ["report.docx"]  # the lock file is not a document
    original, translated = read(source.read_bytes(), "in", "docx"), read(out.read_bytes(), "out", "docx")
    changed = sum(a.text != b.text for a, b in zip(original.segments, translated.segments, strict=False))
    assert len(translated.segments) == len(original.segments) and changed >= len(original.segments) // 2
    result = docx.Document(str(out))
    assert [bool(run.bold) for run in result.paragraphs[1].runs] == [False, True, False]
    assert result.paragraphs[3].text == "— * —"
    assert len(result.paragraphs[2]._p.findall(f".//{W}br")) == 1
    before, after = entries(source.read_bytes()), entries(out.read_bytes())
    assert {n for n in before if before[n] != after[n]} <= {"word/document.xml", "word/header1.xml"}

    to_stdout = run_cli(
        "translate", "-s", "en", "-t", "de", "-i", str(source), env={"TG_EDGE_MODEL": str(demo_model)}
    )
    assert to_stdout.returncode == 2 and b"cannot go to standard output: give -o" in to_stdout.stderr
    bad = tmp_path / "fake.docx"
    bad.write_text("not a zip", encoding="utf-8")
    refused = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-i",
        str(bad),
        "-o",
        str(tmp_path / "x.docx"),
        env={"TG_EDGE_MODEL": str(demo_model)},
    )
    assert refused.returncode == 1 and b"Traceback" not in refused.stderr
    assert f"{bad} is not a DOCX file: not a ZIP archive".encode() in refused.stderr
