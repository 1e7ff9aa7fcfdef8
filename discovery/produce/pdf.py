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

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    fontset: fonts.FontSet,
) -> RenderedPdf:
    """Draw ``lines``; ``page_number(i)`` is the Bates number of page ``i`` (0-based)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    # fontTools reports the font tables it drops when subsetting; the library never prints
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    texts = [title, legend, *(ln.text for ln in lines)]
    fallback_fonts, missing = fontset.for_text("".join(texts))
    bold_font = fontset.bold
    has_bold = bold_font is not None

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
    pdf.add_font("noto", "", fontset.primary.path)
    if bold_font is not None:
        pdf.add_font("noto", "B", bold_font.path)
    keys = []
    for n, f in enumerate(fallback_fonts):
        keys.append(f"fb{n}")
        pdf.add_font(keys[-1], "", f.path)
    if keys:
        pdf.set_fallback_fonts(keys, exact_match=False)
    measure = _Measure(fontset, fallback_fonts)
    pdf.add_page()
    usable = pdf.w - 2 * MARGIN
    anchors: dict[int, int] = {}
    for line in lines:
        size = SIZES.get(line.style, BODY_SIZE)
        bold_line = has_bold and line.style in ("title", "head", "day")
        pdf.set_font("noto", "B" if bold_line else "", size)
        text = _drawable(line.text, missing).replace("\t", "    ")
        # a message's own text takes its direction from its first letter (Unicode bidi);
        # every other line (times, names, numbers) reads left to right
        shaped = fonts.needs_shaping(text)
        pdf.set_text_shaping(
            shaped, direction=None if line.style == "body" or not shaped else "ltr"
        )
        width = usable - INDENT * line.indent
        height = size * 1.35
        if line.style == "day":
            pdf.ln(4)
        if line.anchor is not None:
            if pdf.will_page_break(height):
                pdf.add_page()
            anchors[line.anchor] = pdf.page_no() - 1
        align = "C" if line.style == "day" else "L"
        fits = functools.partial(measure.width, size=size, bold=bold_line, pdf=pdf, shaped=shaped)
        for piece in _wrap(text, width, fits):
            pdf.set_x(MARGIN + INDENT * line.indent)
            pdf.cell(width, height, piece, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align=align)
        if line.style == "title":
            pdf.ln(2)
    return RenderedPdf(bytes(pdf.output()), pdf.page_no(), anchors, missing)


class _Measure:
    """Text widths from the fonts' own metrics (the PDF library's are slow per call)."""

    def __init__(self, fontset: fonts.FontSet, fallback: Sequence[fonts.Font]) -> None:
        regular = fonts.metrics(fontset.primary.path)
        strong = fonts.metrics(fontset.bold.path) if fontset.bold else regular
        rest = [fonts.metrics(f.path) for f in fallback]
        self.chains = {False: [regular, *rest], True: [strong, *rest]}
        self.cache: dict[tuple[str, bool], float] = {}

    def width(self, text: str, size: float, bold: bool, pdf: Any, shaped: bool) -> float:
        if shaped:  # shaping changes widths: ask the library
            return float(pdf.get_string_width(text))
        total = 0.0
        for ch in text:
            key = (ch, bold)
            w = self.cache.get(key)
            if w is None:
                w = next(
                    (x for m in self.chains[bold] if (x := m.width(ch, 1000.0)) is not None), 500.0
                )
                self.cache[key] = w
            total += w
        return total * size / 1000.0


_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+|\s+")
"""Words, spaces, and each Han, kana or Hangul character (a line may break before any)."""


def _wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (words kept whole when they fit)."""
    if measure(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for token in _TOKEN.findall(text):
        if token.isspace() and not current and lines:
            continue  # a continuation line starts at a word
        if current.strip() and not token.isspace() and measure(current + token) > width:
            lines.append(current.rstrip())
            current = ""
        current += token
        while len(current) > 1 and measure(current.rstrip()) > width:
            cut = len(current) - 1  # a word wider than the line: break it by characters
            while cut > 1 and measure(current[:cut]) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current.rstrip())
    return lines


def _drawable(text: str, missing: frozenset[str]) -> str:
    if not missing or not any(c in missing for c in text):
        return text
    return "".join(f"[U+{ord(c):04X}]" if c in missing else c for c in text)
