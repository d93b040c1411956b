"""PDF files for the PDF tests and benchmark, drawn with reportlab: a report with the parts a real one has."""

from __future__ import annotations

import io

from PIL import Image
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    FrameBreak,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import Image as Picture

FOOTER = "Northwind Trading Company, annual report"
LINK = "https://example.org/annual-report"
PARAGRAPHS = [
    "The company grew steadily during the year, and its customers were satisfied with the service.",
    "Our shops opened earlier in the morning, and the new bakery sold fresh bread every day.",
    "The board thanks every employee for the hard work that made these good results possible.",
    "Prices for coffee and tea rose in the spring, but the sales of both stayed strong.",
    "A new warehouse near the river now stores the goods that arrive by ship each week.",
    "Next year we will open two more shops in the north of the country.",
]


def picture_png() -> bytes:
    """A small picture (a coloured gradient) whose bytes the translated PDF must keep."""
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _footer(canvas: Canvas, document: BaseDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 8)
    canvas.drawString(2 * cm, 1.2 * cm, FOOTER)
    canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, str(document.page))
    canvas.restoreState()


def report_pdf() -> bytes:
    """Two A4 pages: a title, paragraphs with a link, a picture, a table; page 2 in two columns; a footer on
    every page."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    document = BaseDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, title="Report")
    width, height = A4
    full = Frame(2 * cm, 2 * cm, width - 4 * cm, height - 4 * cm, id="full")
    left = Frame(2 * cm, 2 * cm, (width - 5 * cm) / 2, height - 4 * cm, id="left")
    right = Frame(3 * cm + (width - 5 * cm) / 2, 2 * cm, (width - 5 * cm) / 2, height - 4 * cm, id="right")
    document.addPageTemplates(
        [
            PageTemplate(id="one", frames=[full], onPage=_footer),
            PageTemplate(id="two", frames=[left, right], onPage=_footer),
        ]
    )
    body = styles["BodyText"]
    story = [
        Paragraph("Annual report of the trading company", styles["Title"]),
        Paragraph(PARAGRAPHS[0], body),
        Paragraph(f'Read the whole report on <a href="{LINK}" color="blue">our website</a> this week.', body),
        Picture(io.BytesIO(picture_png()), width=4 * cm, height=3 * cm),
        Spacer(1, 12),
        Paragraph("Sales by product", styles["Heading2"]),
        Table(
            [
                ["Product", "Shop", "Sales"],
                ["Fresh bread", "Harbour street", "1200"],
                ["Black tea", "Market square", "800"],
            ],
            style=TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]),
            colWidths=[5 * cm, 5 * cm, 3 * cm],
        ),
        Spacer(1, 12),
        Paragraph(PARAGRAPHS[1], body),
        NextPageTemplate("two"),
        FrameBreak(),
        Paragraph("The year in our shops", styles["Heading2"]),
        Paragraph(PARAGRAPHS[2], body),
        Paragraph(PARAGRAPHS[3], body),
        FrameBreak(),
        Paragraph("Plans for next year", styles["Heading2"]),
        Paragraph(PARAGRAPHS[4], body),
        Paragraph(PARAGRAPHS[5], body),
    ]
    document.build(story)
    return out.getvalue()


def text_pdf(pages: int, paragraphs_per_page: int = 6) -> bytes:
    """``pages`` A4 pages of plain paragraphs (the benchmark's document), a footer on each."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    document = BaseDocTemplate(out, pagesize=A4)
    frame = Frame(2 * cm, 2 * cm, A4[0] - 4 * cm, A4[1] - 4 * cm)
    document.addPageTemplates([PageTemplate(frames=[frame], onPage=_footer)])
    story: list = []
    for page in range(pages):
        story.append(Paragraph(f"Chapter {page + 1}", styles["Heading2"]))
        for k in range(paragraphs_per_page):
            story.append(
                Paragraph(
                    PARAGRAPHS[(page + k) % len(PARAGRAPHS)] + f" (Note {page + 1}.{k + 1}.)",
                    styles["BodyText"],
                )
            )
        if page < pages - 1:
            story.append(FrameBreak())
    document.build(story)
    return out.getvalue()


def aligned_pdf() -> bytes:
    """One page of four paragraphs of three lines each: left-aligned, justified, centred, right-aligned."""
    body = getSampleStyleSheet()["BodyText"]
    text = " ".join(PARAGRAPHS[:3])
    story: list = []
    for name, alignment in (
        ("left", TA_LEFT),
        ("justify", TA_JUSTIFY),
        ("center", TA_CENTER),
        ("right", TA_RIGHT),
    ):
        story += [Paragraph(text, ParagraphStyle(name, parent=body, alignment=alignment)), Spacer(1, 12)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return out.getvalue()


def linked_pdf() -> bytes:
    """One page of three paragraphs, a link in the second, the rest of the page free."""
    body = getSampleStyleSheet()["BodyText"]
    story = [
        Paragraph(PARAGRAPHS[0], body),
        Paragraph(f'Read the whole report on <a href="{LINK}" color="blue">our website</a> this week.', body),
        Paragraph(PARAGRAPHS[1], body),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """One page that is only a picture (a scan without a text layer)."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.drawImage(_reader(picture_png()), 2 * cm, 10 * cm, width=15 * cm, height=11 * cm)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _reader(png: bytes):
    from reportlab.lib.utils import ImageReader

    return ImageReader(io.BytesIO(png))
