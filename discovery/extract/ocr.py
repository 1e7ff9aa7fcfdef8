"""OCR with Tesseract (the Debian package) through pytesseract: nothing is downloaded.

:func:`unavailable` says, once per process and ``PATH``, whether Tesseract and
the language data asked for are installed; when they are not, its problem
names the command that installs them. :func:`recognise` reads one image and
returns its text as a :class:`Section` flagged as OCR, with Tesseract's mean
word confidence (0-100, from ``image_to_data``; words Tesseract marks ``-1``,
not a word, are left out).

Before Tesseract sees it, an image is turned grey, a dark one (a dark-mode
chat screenshot: light text on black) is inverted, and a small one is scaled
up so that screen text (12-16 pixels high) reaches the size Tesseract's
models read best. Tesseract then binarises it with a local (Sauvola)
threshold, which keeps light grey text (a chat's timestamps) that one global
threshold for the whole image would drop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from discovery.extract.model import Options, Problem, ProblemCode, Section

if TYPE_CHECKING:
    from PIL.Image import Image

INSTALL = "apt-get install -y tesseract-ocr"
"""The command that installs Tesseract and its English data (Debian, Ubuntu)."""
MAX_PIXELS = 120_000_000
"""Larger images (a 12,000 × 10,000 scan) are not OCR'd: reported as oversized."""
SMALL_SIDE = 1600
"""Images whose longer side is below this are scaled up 2× before OCR (screen text)."""
CONFIG = "-c thresholding_method=2"
"""Sauvola's local threshold (Tesseract 5): grey timestamps on a white bubble survive it,
where the global Otsu threshold drops them."""
DARK = 110
"""An image whose mean grey level is below this is read as light text on a dark ground."""


def _command() -> str:
    try:
        import pytesseract
    except ImportError:
        return ""
    cmd: str = pytesseract.pytesseract.tesseract_cmd
    return cmd


def unavailable(options: Options) -> Problem | None:
    """Why OCR cannot run with ``options.ocr_lang`` (None: it can); checked once per PATH."""
    return _probe(_command(), os.environ.get("PATH", ""), options.ocr_lang)


@lru_cache(maxsize=16)
def _probe(cmd: str, path: str, lang: str) -> Problem | None:
    if not cmd:
        return Problem(
            ProblemCode.OCR_MISSING,
            "OCR is not installed (the pytesseract package"
            " is missing); install discovery again with pip",
        )
    binary = shutil.which(cmd, path=path)
    if binary is None:
        return Problem(
            ProblemCode.OCR_MISSING,
            f"OCR is not installed (no tesseract program found); install it with: {INSTALL}",
        )
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as e:
        return Problem(ProblemCode.OCR_MISSING, f"OCR cannot run ({binary}: {e})")
    have = {line.strip() for line in listed.stdout.splitlines()[1:] if line.strip()}
    missing = [code for code in lang.split("+") if code not in have]
    if missing:
        packages = " ".join(f"tesseract-ocr-{code.lower().replace('_', '-')}" for code in missing)
        return Problem(
            ProblemCode.OCR_MISSING,
            f"OCR language data {', '.join(missing)} not installed (installed:"
            f" {', '.join(sorted(have - {'osd'})) or 'none'}); install it with:"
            f" apt-get install -y {packages}",
        )
    return None


def recognise(
    image: Image, options: Options, label: str = ""
) -> tuple[Section | None, Problem | None]:
    """The OCR text of ``image`` as a flagged section, or the problem that stopped it.

    Call :func:`unavailable` first; this assumes Tesseract is there. Callers keep
    images under :data:`MAX_PIXELS` (checked before decoding, or by rendering smaller).
    """
    import pytesseract

    try:
        data = pytesseract.image_to_data(
            prepared(image),
            lang=options.ocr_lang,
            config=CONFIG,
            output_type=pytesseract.Output.DICT,
            timeout=options.ocr_timeout,
        )
    except RuntimeError as e:  # pytesseract's timeout, and TesseractError
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        return None, Problem(ProblemCode.OCR_FAILED, f"OCR failed ({reason[:200]})", label)
    except OSError as e:
        return None, Problem(ProblemCode.OCR_FAILED, f"OCR could not run ({e})", label)
    text, confidence = words_of(data)
    if not text:
        return None, Problem(ProblemCode.NO_TEXT, "OCR found no text", label)
    return Section(label, text, confidence), None


def prepared(image: Image) -> Image:
    """``image`` as Tesseract reads it best: grey, dark text on light, screen text enlarged."""
    from PIL import ImageOps

    grey = ImageOps.exif_transpose(image).convert("L")
    histogram = grey.histogram()
    mean = sum(i * n for i, n in enumerate(histogram)) / max(1, grey.width * grey.height)
    if mean < DARK:
        grey = ImageOps.invert(grey)
    if max(grey.size) < SMALL_SIDE:
        grey = grey.resize((grey.width * 2, grey.height * 2), resample=3)  # bicubic
    return grey


LONE_BAR = "|"
"""A word that is only a vertical bar is read as ``I``: Tesseract's commonest misreading of
the pronoun in screen text (a bar is not a word, so it would be unsearchable either way)."""


def words_of(data: dict[str, list[Any]]) -> tuple[str, float]:
    """Text (a line per Tesseract line, a blank line between blocks) and mean word confidence."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences: list[float] = []
    for i, word in enumerate(data["text"]):
        word = str(word).strip()
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        if not word or conf < 0:
            continue
        if word == LONE_BAR:  # Tesseract's usual misreading of the pronoun I (see LONE_BAR)
            word = "I"
        confidences.append(conf)
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append(word)
    out: list[str] = []
    last_block = None
    for (block, _, _), words in lines.items():
        if last_block is not None and block != last_block:
            out.append("")
        out.append(" ".join(words))
        last_block = block
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(out), round(mean, 1)
