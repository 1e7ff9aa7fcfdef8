"""OCR through Tesseract: chat screenshots, scanned pages, and OCR switched off or missing.

Images are rendered here with Pillow and the DejaVu font of Debian's
fonts-dejavu-core; the words expected are the words drawn. ``.ci/run``
installs tesseract-ocr. OCR is slow, so the images are small and few.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from discovery.extract import OCR_INSTALL, Kind, Options, ProblemCode, extract, ocr
from discovery.text import words
from tests.extract_inputs import CHAT, SCAN_LINES, chat_screenshot, scanned_pdf, zip_bytes
from tests.pdfmaker import make_pdf


def found_share(expected: list[str], text: str) -> float:
    """Share of the expected words (with repeats) that occur exactly in ``text``."""
    got = set(words(text))
    return sum(w in got for w in expected) / len(expected)


CHAT_WORDS = words("Budget review " + " ".join(f"{s} {t} {x}" for s, t, x in CHAT))


@pytest.mark.parametrize(("dark", "fmt"), [(False, "PNG"), (True, "JPEG")])
def test_chat_screenshot_ocrs_to_its_words(dark: bool, fmt: str) -> None:
    e = extract(f"screenshot.{fmt.lower()}", chat_screenshot(dark=dark, fmt=fmt))
    assert e.kind is Kind.IMAGE and e.media_type == f"image/{fmt.lower()}"
    assert e.problems == ()
    assert e.is_ocr and all(s.is_ocr for s in e.sections)
    assert e.ocr_confidence is not None and 0 < e.ocr_confidence <= 100
    assert found_share(CHAT_WORDS, e.text) >= 0.95, e.text


def test_scanned_pdf_page_ocrs_and_is_flagged() -> None:
    e = extract("scan.pdf", scanned_pdf())
    assert e.problems == ()
    [page] = e.sections
    assert page.label == "page 1" and page.is_ocr
    assert page.ocr_confidence is not None and page.ocr_confidence > 50
    assert found_share(words(" ".join(SCAN_LINES)), page.text) >= 0.95, page.text


def test_scan_under_a_bates_stamp_is_ocrd_and_keeps_the_stamp() -> None:
    from pypdf import PdfReader, PdfWriter

    scan = PdfReader(io.BytesIO(scanned_pdf()))
    stamp = PdfReader(io.BytesIO(make_pdf([["ACME-000123"]])))
    writer = PdfWriter()
    page = writer.add_page(scan.pages[0])
    page.merge_page(stamp.pages[0])
    out = io.BytesIO()
    writer.write(out)
    e = extract("stamped.pdf", out.getvalue())
    layer, read = e.sections
    assert (layer.label, layer.text, layer.is_ocr) == ("page 1", "ACME-000123", False)
    assert read.label == "page 1" and read.is_ocr
    assert found_share(words(" ".join(SCAN_LINES)), read.text) >= 0.95


def test_ocr_off_and_force() -> None:
    off = extract("screenshot.png", chat_screenshot(CHAT[:1]), Options(ocr="off"))
    assert off.sections == () and [p.code for p in off.problems] == [ProblemCode.OCR_OFF]
    forced = extract("typed.pdf", make_pdf([["Typed text layer words"]]), Options(ocr="force"))
    layer, read = forced.sections
    assert not layer.is_ocr and read.is_ocr
    assert words(read.text) == words("Typed text layer words")


def test_multipage_tiff_and_heic_in_a_zip() -> None:
    from PIL import Image

    pages = [Image.open(io.BytesIO(chat_screenshot([line]))) for line in CHAT[:2]]
    tiff = io.BytesIO()
    pages[0].save(tiff, "TIFF", save_all=True, append_images=pages[1:])
    e = extract(
        "photos.zip",
        zip_bytes(
            [("scan.tif", tiff.getvalue()), ("photo.heic", chat_screenshot(CHAT[2:3], fmt="HEIF"))]
        ),
    )
    scan, photo = e.members
    assert [s.label for s in scan.sections] == ["page 1", "page 2"]
    for section, (speaker, _, text) in zip(scan.sections, CHAT[:2], strict=True):
        assert found_share(words(f"{speaker} {text}"), section.text) >= 0.9
    assert photo.media_type == "image/heic" and photo.is_ocr
    assert found_share(words(CHAT[2][2]), photo.text) >= 0.9


@pytest.fixture
def no_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """PATH without tesseract; returns the list of lookups made for it."""
    lookups: list[str] = []
    real_which = shutil.which

    def which(cmd: str, mode: int = 1, path: str | None = None) -> str | None:
        lookups.append(cmd)
        return real_which(cmd, mode, path)

    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(ocr.shutil, "which", which)
    return lookups


def test_missing_tesseract_is_one_clear_problem(no_tesseract: list[str]) -> None:
    e = extract("screenshot.png", chat_screenshot(CHAT[:1]))
    [problem] = e.problems
    assert problem.code is ProblemCode.OCR_MISSING
    assert problem.message.endswith(f"install it with: {OCR_INSTALL}")
    assert OCR_INSTALL == "apt-get install -y tesseract-ocr"
    assert e.sections == ()


def test_missing_tesseract_is_detected_once_and_the_rest_is_read(no_tesseract: list[str]) -> None:
    data = zip_bytes(
        [
            ("a.png", chat_screenshot(CHAT[:1])),
            ("b.png", chat_screenshot(CHAT[1:2])),
            ("scan.pdf", scanned_pdf(pages=2)),
            ("notes.txt", b"typed notes"),
        ]
    )
    e = extract("family.zip", data)
    a, b, scan, notes = e.members
    assert notes.text == "typed notes" and notes.problems == ()
    for member in (a, b, scan):
        assert [p.code for p in member.problems] == [ProblemCode.OCR_MISSING]
    assert scan.problems[0].where == "pages 1-2"
    assert no_tesseract == ["tesseract"]  # looked up once for the whole tree


def test_missing_language_data_names_its_package() -> None:
    e = extract("screenshot.png", chat_screenshot(CHAT[:1]), Options(ocr_lang="eng+xyz"))
    [problem] = e.problems
    assert problem.code is ProblemCode.OCR_MISSING
    assert "xyz" in problem.message
    assert problem.message.endswith("apt-get install -y tesseract-ocr-xyz")
