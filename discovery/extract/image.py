"""Images (PNG, JPEG, TIFF, HEIC; GIF, BMP and WebP too): OCR'd with Tesseract.

Pillow decodes them; HEIC/HEIF through pillow-heif (libheif inside the wheel)
when it is installed, otherwise a HEIC is reported as unsupported. Every page
of a multi-page TIFF is read (``page N``); an animated GIF or WebP only its
first frame. The text is flagged as OCR with its confidence. With ``--ocr
off``, or without Tesseract, the image is listed with a problem saying its
text was not read.
"""

from __future__ import annotations

import io

from discovery.extract.core import Body, Walk
from discovery.extract.model import OcrMode, Problem, ProblemCode, Section
from discovery.extract.ocr import MAX_PIXELS, recognise, unavailable
from discovery.extract.sniff import image_type

OCR_OFF = "image text not read: OCR is off (--ocr auto reads it)"


def read(data: bytes, walk: Walk) -> Body:
    from PIL import Image

    media = image_type(data[:64])
    if media == "image/heic" and not _heif_ready():
        return Body(
            problems=(
                Problem(
                    ProblemCode.UNSUPPORTED,
                    "HEIC image: no HEIF decoder installed (pip install pillow-heif)",
                ),
            )
        )
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
    except Image.DecompressionBombError:
        return Body(problems=(Problem(ProblemCode.OVERSIZED, "image too large to decode"),))
    meta = (("width", str(width)), ("height", str(height)), *_exif(image))
    if width * height > MAX_PIXELS:
        return Body(
            problems=(
                Problem(
                    ProblemCode.OVERSIZED,
                    f"image of {width:,} × {height:,} pixels is over the OCR limit of"
                    f" {MAX_PIXELS:,} pixels; not read",
                ),
            ),
            metadata=meta,
        )
    if walk.options.ocr is OcrMode.OFF:
        return Body(problems=(Problem(ProblemCode.OCR_OFF, OCR_OFF),), metadata=meta)
    missing = unavailable(walk.options)
    if missing is not None:
        return Body(problems=(missing,), metadata=meta)
    frames = getattr(image, "n_frames", 1) if media == "image/tiff" else 1
    sections: list[Section] = []
    problems: list[Problem] = []
    for n in range(frames):
        image.seek(n)
        image.load()
        section, problem = recognise(image, walk.options, f"page {n + 1}" if frames > 1 else "")
        if section is not None:
            sections.append(section)
        if problem is not None:
            problems.append(problem)
    return Body(tuple(sections), (), tuple(problems), meta)


def _heif_ready() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


_EXIF_TAGS = ((0x9003, "taken"), (0x010F, "camera make"), (0x0110, "camera model"))


def _exif(image: object) -> tuple[tuple[str, str], ...]:
    """When and with what a photo was taken, as its EXIF says (nothing when it has none)."""
    try:
        exif = image.getexif()  # type: ignore[attr-defined]
        merged = {**exif, **exif.get_ifd(0x8769)}
    except Exception:  # malformed EXIF is common and harmless: no metadata
        return ()
    return tuple((name, str(merged[tag]).strip()) for tag, name in _EXIF_TAGS if merged.get(tag))
