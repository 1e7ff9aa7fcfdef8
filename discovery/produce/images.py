"""Page images of a PDF transcript: one single-page TIFF (CCITT Group 4, 300 dpi) per page.

The format review platforms load with an Opticon OPT: black and white, one
file per page, named by the page's Bates number. Rendered with PDFium
(pypdfium2); the same PDF gives the same images, byte for byte (no time or
software tag is written).
"""

from __future__ import annotations

import io

DPI = 300


def page_images(pdf: bytes) -> list[bytes]:
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        out = []
        for index in range(len(doc)):
            page = doc[index]
            width, height = (round(v * DPI / 72) for v in page.get_size())
            image = page.render(scale=DPI / 72, grayscale=True).to_pil().convert("1")
            image = image.crop((0, 0, width, height))  # PDFium rounds up a pixel
            buf = io.BytesIO()
            image.save(buf, format="TIFF", compression="group4", dpi=(DPI, DPI))
            out.append(buf.getvalue())
            page.close()
        return out
    finally:
        doc.close()
