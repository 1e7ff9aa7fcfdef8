"""Inputs for the extraction tests and bench, made by code: no binary fixture is committed.

Office documents come from python-docx, openpyxl and python-pptx, PDFs from
``tests.pdfmaker`` (text) and Pillow (a page that is only a picture), mail
from the standard library, images from Pillow with the DejaVu fonts of
Debian's ``fonts-dejavu-core`` (the machine image has them; ``.ci/run``
installs them where it does not).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

CHAT = (
    ("Dana Whitfield", "10:02", "Did you send the quarterly budget to legal yet"),
    ("Marcus Chen", "10:04", "Not yet, the spreadsheet still has the old totals"),
    ("Dana Whitfield", "10:05", "Please fix them before the meeting on Thursday"),
    ("Marcus Chen", "10:07", "Sure, I will upload the corrected version tonight"),
    ("Dana Whitfield", "10:09", "Thanks, and delete the draft from the shared drive"),
)
"""The chat a screenshot shows: (speaker, time, text), plain English words."""


def chat_screenshot(
    lines: Sequence[tuple[str, str, str]] = CHAT, *, dark: bool = False, fmt: str = "PNG"
) -> bytes:
    """A phone-style chat screenshot: a title bar, bubbles with a name, text and time.

    ``fmt`` is a Pillow format name (``PNG``, ``JPEG``, ``HEIF`` through pillow-heif).
    """
    from PIL import Image, ImageDraw, ImageFont

    body = ImageFont.truetype(str(FONT), 22)
    name_font = ImageFont.truetype(str(BOLD), 18)
    small = ImageFont.truetype(str(FONT), 15)
    width, pad = 900, 24
    height = 110 + len(lines) * 120
    ground, bar, ink = (
        ("#101418", "#1f2c34", "#e9edef") if dark else ("#efeae2", "#075e54", "#111b21")
    )
    mine, theirs = ("#005c4b", "#202c33") if dark else ("#d9fdd3", "#ffffff")
    image = Image.new("RGB", (width, height), ground)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 80), fill=bar)
    draw.text((pad, 24), "Budget review", font=ImageFont.truetype(str(BOLD), 26), fill="#ffffff")
    y = 100
    first = lines[0][0] if lines else ""
    for speaker, time, text in lines:
        right = speaker != first
        text_w = draw.textlength(text, font=body)
        bubble_w = int(max(text_w, draw.textlength(speaker, font=name_font)) + 2 * pad + 60)
        x0 = width - pad - bubble_w if right else pad
        draw.rounded_rectangle(
            (x0, y, x0 + bubble_w, y + 100), radius=14, fill=mine if right else theirs
        )
        draw.text(
            (x0 + pad, y + 10), speaker, font=name_font, fill="#53bdeb" if dark else "#1f7aec"
        )
        draw.text((x0 + pad, y + 38), text, font=body, fill=ink)
        draw.text((x0 + bubble_w - 70, y + 72), time, font=small, fill="#8696a0")
        y += 120
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


SCAN_LINES = (
    "MEMORANDUM",
    "To: All project staff",
    "From: Office of the General Counsel",
    "Subject: Preservation of documents",
    "Please keep every email, chat message and spreadsheet",
    "about the merger until legal tells you otherwise.",
)


def scanned_pdf(lines: Sequence[str] = SCAN_LINES, *, pages: int = 1) -> bytes:
    """A PDF whose pages are only pictures of text (no text layer), as a scanner makes."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(str(FONT), 34)
    images = []
    for n in range(pages):
        page = Image.new("L", (1275, 1650), 250)  # US Letter at 150 dpi
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(lines):
            draw.text((120, 160 + i * 70), line, font=font, fill=20)
        draw.text((560, 1540), f"{n + 1}", font=font, fill=20)
        images.append(page.rotate(0.4, fillcolor=250).filter(ImageFilter.GaussianBlur(0.6)))
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return out.getvalue()


def docx_bytes(
    paragraphs: Sequence[str],
    table: Sequence[Sequence[str]] = (),
    header: str = "",
    comment: str = "",
) -> bytes:
    """A Word document: paragraphs, then a table, with a page header and a comment."""
    import docx

    doc = docx.Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if table:
        grid = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if header:
        doc.sections[0].header.paragraphs[0].text = header
    if comment:
        doc.add_comment(doc.paragraphs[0].runs, text=comment, author="Reviewer")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[object]]], hidden: Sequence[str] = ()) -> bytes:
    """A workbook with one sheet per entry (rows of values), some of them hidden."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        if title in hidden:
            ws.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pptx_bytes(slides: Sequence[tuple[str, str, str]]) -> bytes:
    """A presentation: each slide (title, body text, speaker notes)."""
    import pptx

    deck = pptx.Presentation()
    for title, body, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def eml_bytes(
    subject: str, body: str, attachments: Sequence[tuple[str, bytes]] = (), html: str = ""
) -> bytes:
    """An email with a text body (or only an HTML one) and attachments."""
    msg = EmailMessage()
    msg["From"] = "Dana Whitfield <dana@example.com>"
    msg["To"] = "Marcus Chen <marcus@example.com>"
    msg["Subject"] = subject
    msg["Date"] = "Fri, 03 Feb 2023 10:15:00 -0500"
    msg["Message-ID"] = "<m1@example.com>"
    if html:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body)
    for name, data in attachments:
        maintype, subtype = (
            ("text", "plain") if name.endswith(".txt") else ("application", "octet-stream")
        )
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def zip_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip of ``(name, bytes)`` members, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return out.getvalue()
