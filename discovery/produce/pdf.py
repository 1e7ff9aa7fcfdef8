"""Bates-stamped PDF transcripts (fpdf2), with a real text layer.

Each document is drawn from its transcript lines (:mod:`discovery.produce.transcript`)
on US Letter pages: the Bates number of the page at the bottom right, the
confidentiality legend (when given) at the bottom left, the conversation's
name at the top. Text is real text in embedded Noto font subsets
(:mod:`discovery.produce.fonts`), so it can be searched and copied; Arabic,
Hebrew, Indic and Thai lines are shaped (HarfBuzz, through fpdf2) so they read
as written.

Byte-identical output: the creation date is fixed (the production's as-of
date, see :mod:`discovery.produce.production`), and fpdf2 derives the file id
from the content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from discovery import __version__
from discovery.produce import fonts
from discovery.produce.transcript import Line

PAGE = "letter"
MARGIN = 40.0
FOOTER = 28.0
INDENT = 18.0
SIZES = {"title": 13.0, "meta": 9.0, "day": 10.0, "head": 9.5, "note": 8.5, "withheld": 10.0}
BODY_SIZE = 10.0
GENERATOR = f"discovery {__version__}"


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    data: bytes
    pages: int
    anchors: dict[int, int]
    """The page (0-based) on which each anchored line (a message's block) starts."""
    missing: frozenset[str]
    """Characters no installed font could draw (shown as ``[U+XXXX]``)."""


def render(
    lines: Sequence[Line],
    *,
    title: str,
    page_number: Callable[[int], str],
    legend: str,
    created: datetime,
) -> RenderedPdf:
    """Draw ``lines``; ``page_number(i)`` is the Bates number of page ``i`` (0-based)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    # fontTools reports the font tables it drops when subsetting; the library never prints
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    texts = [title, legend, *(ln.text for ln in lines)]
    cover = fonts.coverage("".join(texts) + "0123456789-")
    missing = cover.missing

    class _Pdf(FPDF):  # type: ignore[misc]
        def footer(self) -> None:
            self.set_text_shaping(False)
            self.set_y(-FOOTER)
            self.set_font("noto", size=8)
            usable = self.w - 2 * MARGIN
            if legend:
                self.set_x(MARGIN)
                self.cell(usable * 0.65, 12, _drawable(legend, missing))
            self.set_x(MARGIN + usable * 0.65)
            self.set_font("noto", "B" if has_bold else "", size=10)
            self.cell(usable * 0.35, 12, page_number(self.page_no() - 1), align="R")

        def header(self) -> None:
            self.set_text_shaping(False)
            self.set_y(14)
            self.set_font("noto", size=7.5)
            self.cell(0, 10, _drawable(title, missing), align="L")
            self.set_y(MARGIN)

    pdf = _Pdf(unit="pt", format=PAGE)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=FOOTER + 14)
    pdf.set_creation_date(created)
    pdf.set_creator(GENERATOR)
    pdf.set_producer(GENERATOR)
    pdf.set_title(title)
    pdf.add_font("noto", "", fonts.primary().path)
    bold_font = fonts.bold()
    has_bold = bold_font is not None
    if bold_font is not None:
        pdf.add_font("noto", "B", bold_font.path)
    fallback = []
    for f in cover.fonts:
        key = f"fb-{f.family}"
        pdf.add_font(key, "", f.path)
        fallback.append(key)
    if fallback:
        pdf.set_fallback_fonts(fallback, exact_match=False)
    pdf.add_page()
    usable = pdf.w - 2 * MARGIN
    anchors: dict[int, int] = {}
    for line in lines:
        size = SIZES.get(line.style, BODY_SIZE)
        style = "B" if has_bold and line.style in ("title", "head", "day") else ""
        pdf.set_font("noto", style, size)
        text = _drawable(line.text, missing).replace("\t", "    ")
        # a message's own text takes its direction from its first letter (Unicode bidi);
        # every other line (times, names, numbers) reads left to right
        shaped = fonts.needs_shaping(text)
        pdf.set_text_shaping(
            shaped, direction=None if line.style == "body" or not shaped else "ltr"
        )
        left = MARGIN + INDENT * line.indent
        if line.style == "day":
            pdf.ln(4)
        if line.anchor is not None:
            if pdf.will_page_break(size * 1.35):
                pdf.add_page()
            anchors[line.anchor] = pdf.page_no() - 1
        pdf.set_x(left)
        pdf.multi_cell(
            usable - INDENT * line.indent,
            size * 1.35,
            text,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
            align="C" if line.style == "day" else "L",
        )
        if line.style in ("title",):
            pdf.ln(2)
    return RenderedPdf(bytes(pdf.output()), pdf.page_no(), anchors, missing)


def _drawable(text: str, missing: frozenset[str]) -> str:
    if not missing or not any(c in missing for c in text):
        return text
    return "".join(f"[U+{ord(c):04X}]" if c in missing else c for c in text)
