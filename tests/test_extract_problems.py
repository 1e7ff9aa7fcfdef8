"""Encrypted, corrupt and oversized inputs are reported as problems, never raised.

Encrypted Office files are made with msoffcrypto-tool, encrypted PDFs with
pypdf, damaged files by cutting generated ones short or flipping bytes.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader, PdfWriter

from discovery.errors import UsageError
from discovery.extract import Kind, Options, ProblemCode, extract
from tests.extract_inputs import docx_bytes, eml_bytes, pptx_bytes, xlsx_bytes, zip_bytes
from tests.pdfmaker import make_pdf


def encrypted_pdf(user: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["sealed words"]]))))
    writer.encrypt(user, owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf_is_reported() -> None:
    e = extract("sealed.pdf", encrypted_pdf("s3cret"))
    assert e.kind is Kind.PDF and e.sections == ()
    assert [p.code for p in e.problems] == [ProblemCode.ENCRYPTED]
    assert "decrypted copy" in e.problems[0].message


def test_pdf_with_an_empty_user_password_is_read() -> None:
    e = extract("print-restricted.pdf", encrypted_pdf(""))
    assert e.problems == () and e.text == "sealed words"


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("budget.xlsx", lambda: xlsx_bytes({"S": [["hidden figures"]]})),
        ("memo.docx", lambda: docx_bytes(["hidden memo"])),
    ],
)
def test_password_protected_office_files_are_reported(name: str, make) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(make())).encrypt("pw", out)
    e = extract(name, out.getvalue())
    assert e.kind is Kind.XLSX if name.endswith("xlsx") else e.kind is Kind.DOCX
    assert [p.code for p in e.problems] == [ProblemCode.ENCRYPTED]
    assert e.sections == ()


def test_encrypted_email_is_reported() -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: sealed\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n"
    )
    e = extract("sealed.eml", raw)
    assert [p.code for p in e.problems] == [ProblemCode.ENCRYPTED]
    assert "Subject: sealed" in e.text


GENERATED = {
    "doc.pdf": lambda: make_pdf([["page one words"], ["page two words"]]),
    "doc.docx": lambda: docx_bytes(["a paragraph"] * 20),
    "doc.xlsx": lambda: xlsx_bytes({"S": [["cell", 1]] * 50}),
    "doc.pptx": lambda: pptx_bytes([("title", "body", "notes")]),
    "doc.zip": lambda: zip_bytes([("a.txt", b"alpha " * 100), ("b.txt", b"beta " * 100)]),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_truncated_files_are_reported_not_raised(name: str) -> None:
    data = GENERATED[name]()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        e = extract(name, data[:cut])
        assert e.size == cut and e.sha256 == hashlib.sha256(data[:cut]).hexdigest()
        damaged = [p for m in e.walk() for p in m.problems if p.code is ProblemCode.CORRUPT]
        assert damaged, (name, cut, e)


def test_flipped_bytes_never_raise() -> None:
    data = docx_bytes(["some words"])
    for offset in range(40, len(data), max(1, len(data) // 25)):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        extract("flipped.docx", bytes(damaged))  # returns, whatever it finds


def test_oversized_file_is_listed_with_its_hash_not_read() -> None:
    data = b"word " * 1000
    e = extract("big.txt", data, Options(max_bytes=1000))
    assert (e.size, e.sha256, e.sections) == (len(data), hashlib.sha256(data).hexdigest(), ())
    [problem] = e.problems
    assert problem.code is ProblemCode.OVERSIZED and "5,000 bytes" in problem.message


def test_text_past_the_limit_is_cut_and_reported() -> None:
    e = extract("long.txt", b"abcdefghij" * 10, Options(max_text=25))
    assert e.text == "abcdefghij" * 2 + "abcde"
    assert [p.code for p in e.problems] == [ProblemCode.OVERSIZED]


def test_office_zip_bomb_is_refused_before_parsing() -> None:
    import zipfile

    buf = io.BytesIO(docx_bytes(["real text"]))
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/media/blank.bin", bytes(30 * 1024 * 1024))
    e = extract("bomb.docx", buf.getvalue())
    assert e.kind is Kind.DOCX and e.sections == ()
    [problem] = e.problems
    assert problem.code is ProblemCode.OVERSIZED and "zip bomb" in problem.message


def test_a_damaged_attachment_does_not_stop_its_mail() -> None:
    broken = make_pdf([["x"]])[:60]
    e = extract("m.eml", eml_bytes("report", "see the attached report", [("r.pdf", broken)]))
    assert "see the attached report" in e.text
    [member] = e.members
    assert member.kind is Kind.PDF and [p.code for p in member.problems] == [ProblemCode.CORRUPT]


@pytest.mark.parametrize(
    "kwargs", [{"ocr": "sometimes"}, {"ocr_lang": "eng deu"}, {"ocr_lang": ""}, {"ocr_dpi": 5}]
)
def test_bad_options_are_usage_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        Options(**kwargs)  # type: ignore[arg-type]


def test_image_over_the_pixel_limit_is_not_decoded() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (11_000, 11_000), 1).save(out, "PNG")  # 121 million pixels, a few KB
    e = extract("poster.png", out.getvalue())
    assert ("width", "11000") in e.metadata and e.sections == ()
    [problem] = e.problems
    assert problem.code is ProblemCode.OVERSIZED and "11,000 × 11,000 pixels" in problem.message
