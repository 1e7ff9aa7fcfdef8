"""PDF: the text layer of every page (pypdf), and OCR of the pages that are pictures.

Each page is a section ``page N``. Which pages are OCR'd depends on ``--ocr``:

* ``auto``: a page with no text layer, and a page that is mostly a picture
  (images cover at least half of it) under a few words of text (fewer than
  :data:`FEW_WORDS`: a Bates stamp, a fax header over a scan);
* ``force``: every page;
* ``off``: none; pages without a text layer are reported as not read.

OCR never replaces a text layer: an OCR'd page that has one keeps it as its
own section, and the OCR text follows as a second ``page N`` section flagged
as OCR. Pages are rendered with pdfium (pypdfium2) at ``ocr_dpi`` (capped so
that a page stays under the OCR pixel limit) and read by Tesseract.

An encrypted PDF is opened with the empty password when it has one (most
"protected" PDFs only restrict printing), else reported. Pages without text
are reported as ranges (``pages 2-4, 9``) rather than one line each.
"""

from __future__ import annotations

import io
from typing import Any

from discovery.extract.core import Body, Walk, why
from discovery.extract.model import OcrMode, Options, Problem, ProblemCode, Section
from discovery.extract.ocr import MAX_PIXELS, recognise, unavailable

FEW_WORDS = 20
"""A page with fewer words than this over a page-sized picture is OCR'd in ``auto`` mode."""
PICTURE_SHARE = 0.5
"""Share of the page that images must cover for the page to count as a picture."""
_META = (
    ("title", "title"),
    ("author", "author"),
    ("subject", "subject"),
    ("creator", "creator"),
    ("producer", "producer"),
)


def read(data: bytes, walk: Walk) -> Body:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except Exception as e:  # an unsupported cipher, a missing crypto library
            return Body(
                problems=(
                    Problem(
                        ProblemCode.ENCRYPTED, f"encrypted PDF that cannot be opened ({why(e)})"
                    ),
                )
            )
        if not opened:
            return Body(
                problems=(
                    Problem(
                        ProblemCode.ENCRYPTED, "password-protected PDF; supply a decrypted copy"
                    ),
                )
            )
    layers: list[str | None] = []
    problems: list[Problem] = []
    for n, page in enumerate(reader.pages, start=1):
        try:
            layers.append((page.extract_text() or "").replace("\x00", "").strip())
        except Exception as e:  # one broken page must not lose the others
            problems.append(
                Problem(ProblemCode.CORRUPT, f"text unreadable ({why(e)})", f"page {n}")
            )
            layers.append(None)
    wanted = _pages_to_ocr(data, layers, walk.options)
    ocr_texts, ocr_problems = _ocr(data, wanted, walk.options)
    problems += ocr_problems
    sections: list[Section] = []
    for n, layer in enumerate(layers, start=1):
        if layer:
            sections.append(Section(f"page {n}", layer))
        if n in ocr_texts:
            sections.append(ocr_texts[n])
    blank = [n for n, layer in enumerate(layers, start=1) if layer == "" and n not in ocr_texts]
    if blank and walk.options.ocr is OcrMode.OFF:
        problems.append(
            Problem(
                ProblemCode.OCR_OFF,
                "no text layer; not read (OCR is off: --ocr auto reads it)",
                pages(blank),
            )
        )
    elif blank and not ocr_problems:
        problems.append(Problem(ProblemCode.NO_TEXT, "no text on the page", pages(blank)))
    return Body(tuple(sections), (), tuple(problems), _metadata(reader))


def pages(numbers: list[int]) -> str:
    """Page numbers as ranges: ``page 3``, ``pages 1-4, 9``."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
    return f"page {text}" if len(numbers) == 1 else f"pages {text}"


def _pages_to_ocr(data: bytes, layers: list[str | None], options: Options) -> list[int]:
    if options.ocr is OcrMode.OFF:
        return []
    if options.ocr is OcrMode.FORCE:
        return list(range(1, len(layers) + 1))
    wanted = [n for n, layer in enumerate(layers, start=1) if layer == ""]
    sparse = [
        n for n, layer in enumerate(layers, start=1) if layer and len(layer.split()) < FEW_WORDS
    ]
    if sparse:
        wanted = sorted(wanted + _pictures(data, sparse))
    return wanted


def _pictures(data: bytes, numbers: list[int]) -> list[int]:
    """Which of these pages are mostly covered by images."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    out: list[int] = []
    pdf = pdfium.PdfDocument(data)
    try:
        for n in numbers:
            page = pdf[n - 1]
            width, height = page.get_size()
            covered = 0.0
            for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
                left, bottom, right, top = obj.get_bounds()
                covered += max(0.0, min(right, width) - max(left, 0.0)) * max(
                    0.0, min(top, height) - max(bottom, 0.0)
                )
            if width * height and covered / (width * height) >= PICTURE_SHARE:
                out.append(n)
    finally:
        pdf.close()
    return out


def _ocr(
    data: bytes, numbers: list[int], options: Options
) -> tuple[dict[int, Section], list[Problem]]:
    if not numbers:
        return {}, []
    missing = unavailable(options)
    if missing is not None:
        return {}, [Problem(missing.code, missing.message, pages(numbers))]
    import pypdfium2 as pdfium

    texts: dict[int, Section] = {}
    problems: list[Problem] = []
    empty: list[int] = []
    pdf = pdfium.PdfDocument(data)
    try:
        for n in numbers:
            page = pdf[n - 1]
            width, height = page.get_size()
            scale = options.ocr_dpi / 72
            pixels = width * height * scale * scale
            if pixels > MAX_PIXELS:
                scale *= (MAX_PIXELS / pixels) ** 0.5
            try:
                image = page.render(scale=scale, grayscale=True).to_pil()
            except Exception as e:  # pdfium refuses a broken page
                problems.append(
                    Problem(ProblemCode.OCR_FAILED, f"page not rendered ({why(e)})", f"page {n}")
                )
                continue
            section, problem = recognise(image, options, f"page {n}")
            if section is not None:
                texts[n] = section
            elif problem is not None and problem.code is ProblemCode.NO_TEXT:
                empty.append(n)
            elif problem is not None:
                problems.append(problem)
    finally:
        pdf.close()
    if empty:
        problems.append(Problem(ProblemCode.NO_TEXT, "OCR found no text", pages(empty)))
    return texts, problems


def _metadata(reader: Any) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = [("pages", str(len(reader.pages)))]
    try:
        meta = reader.metadata
    except Exception:  # a malformed Info dictionary: no metadata
        return tuple(out)
    if meta is None:
        return tuple(out)
    for attr, label in _META:
        try:
            value = getattr(meta, attr)
        except Exception:  # a malformed entry: left out
            value = None
        if value and str(value).strip():
            out.append((label, str(value).strip()))
    for attr, label in (("creation_date", "created"), ("modification_date", "modified")):
        try:
            when = getattr(meta, attr)
        except Exception:  # a malformed date string: left out
            when = None
        if when is not None:
            out.append((label, when.isoformat()))
    return tuple(out)
