"""discovery.extract on documents: PDF text layers, DOCX, XLSX, PPTX, HTML, text and CSV.

Every input is made here (python-docx, openpyxl, python-pptx, tests.pdfmaker);
expectations are read off what was put in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest

from discovery.extract import Extraction, Kind, Options, ProblemCode, extract
from tests.extract_inputs import docx_bytes, pptx_bytes, xlsx_bytes
from tests.pdfmaker import make_pdf


def labels(e: Extraction) -> list[str]:
    return [s.label for s in e.sections]


def texts(e: Extraction) -> dict[str, str]:
    return {s.label: s.text for s in e.sections}


def test_every_extraction_names_size_and_hash() -> None:
    data = docx_bytes(["one paragraph"])
    e = extract("memo.docx", data)
    assert (e.name, e.kind, e.size, e.sha256) == (
        "memo.docx",
        Kind.DOCX,
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert e.media_type.endswith("wordprocessingml.document")
    assert e.problems == () and not e.is_ocr and e.ocr_confidence is None


def test_pdf_text_layer_is_one_section_per_page() -> None:
    data = make_pdf(
        [["Budget for Q3", "Total 1,250,000"], ["Second page words"]],
        creation_date="D:20230203101500Z",
    )
    e = extract("exhibit.pdf", data)
    assert e.kind is Kind.PDF and e.problems == ()
    assert labels(e) == ["page 1", "page 2"]
    assert texts(e)["page 1"].splitlines() == ["Budget for Q3", "Total 1,250,000"]
    assert texts(e)["page 2"] == "Second page words"
    assert ("pages", "2") in e.metadata
    assert ("created", "2023-02-03T10:15:00+00:00") in e.metadata
    assert e.text == "Budget for Q3\nTotal 1,250,000\n\nSecond page words"


def test_pdf_page_without_text_is_reported_with_ocr_off() -> None:
    e = extract(
        "mixed.pdf", make_pdf([["words here"], None, None, ["more"], None]), Options(ocr="off")
    )
    assert labels(e) == ["page 1", "page 4"]
    [problem] = e.problems
    assert problem.code is ProblemCode.OCR_OFF
    assert problem.where == "pages 2-3, 5"
    assert "--ocr auto" in problem.message


def test_docx_body_tables_headers_comments_in_order() -> None:
    data = docx_bytes(
        ["First paragraph about libgen", "Second paragraph"],
        table=[["Name", "Amount"], ["Marcus", "1200"]],
        header="PRIVILEGED AND CONFIDENTIAL",
        comment="Reviewer note: hot document",
    )
    e = extract("memo.docx", data)
    assert labels(e) == ["body", "headers and footers", "comments"]
    assert texts(e)["body"].splitlines() == [
        "First paragraph about libgen",
        "Second paragraph",
        "Name",
        "Amount",
        "Marcus",
        "1200",
    ]
    assert texts(e)["headers and footers"] == "PRIVILEGED AND CONFIDENTIAL"
    assert texts(e)["comments"] == "Reviewer note: hot document"


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
TRACKED = f"""<w:p xmlns:w="{W}" xmlns:mc="{MC}">
  <w:r><w:t xml:space="preserve">kept </w:t></w:r>
  <w:ins w:id="1" w:author="A"><w:r><w:t>inserted words</w:t></w:r></w:ins>
  <w:del w:id="2" w:author="A"><w:r><w:delText>removed words</w:delText></w:r></w:del>
  <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>
  <w:r><mc:AlternateContent>
    <mc:Choice Requires="wps"><w:drawing><w:txbxContent>
      <w:p><w:r><w:t>boxed words</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice>
    <mc:Fallback><w:pict><w:txbxContent>
      <w:p><w:r><w:t>boxed words</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>
  </mc:AlternateContent></w:r>
</w:p>"""


def test_docx_tracked_changes_and_text_boxes_read_once() -> None:
    import docx
    from lxml import etree

    doc = docx.Document(io.BytesIO(docx_bytes(["opening line"])))
    doc.element.body.insert(1, etree.fromstring(TRACKED))
    out = io.BytesIO()
    doc.save(out)
    e = extract("tracked.docx", out.getvalue())
    body = texts(e)["body"].splitlines()
    assert body == ["opening line", "kept inserted words", "boxed words"]
    assert texts(e)["tracked deletions"] == "removed words"
    assert "PAGE" not in e.text


def test_xlsx_sheets_values_and_hidden_sheets() -> None:
    data = xlsx_bytes(
        {
            "Budget": [
                ["Item", "Amount"],
                ["Licence fee", 1250000],
                [None, None],
                ["Due", dt.datetime(2023, 3, 1, 9, 30)],
                ["Approved", True],
            ],
            "Notes": [["secret plan for the merger"]],
        },
        hidden=["Notes"],
    )
    e = extract("budget.xlsx", data)
    assert e.kind is Kind.XLSX and e.problems == ()
    assert labels(e) == ["sheet Budget", "sheet Notes (hidden)"]
    assert texts(e)["sheet Budget"].splitlines() == [
        "Item\tAmount",
        "Licence fee\t1250000",
        "Due\t2023-03-01T09:30:00",
        "Approved\tTRUE",
    ]
    assert texts(e)["sheet Notes (hidden)"] == "secret plan for the merger"


def test_pptx_slides_tables_and_notes() -> None:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation(
        io.BytesIO(
            pptx_bytes(
                [
                    ("Project Libgen", "Goals\nTimeline", "Do not share outside legal"),
                    ("Budget", "Costs", ""),
                ]
            )
        )
    )
    table = deck.slides[1].shapes.add_table(2, 2, Inches(1), Inches(4), Inches(4), Inches(1)).table
    for (r, c), value in {(0, 0): "Vendor", (0, 1): "Cost", (1, 0): "Acme", (1, 1): "900"}.items():
        table.cell(r, c).text = value
    out = io.BytesIO()
    deck.save(out)
    e = extract("deck.pptx", out.getvalue())
    assert labels(e) == ["slide 1", "slide 1 notes", "slide 2"]
    assert texts(e)["slide 1"].splitlines() == ["Project Libgen", "Goals", "Timeline"]
    assert texts(e)["slide 1 notes"] == "Do not share outside legal"
    assert texts(e)["slide 2"].splitlines() == ["Budget", "Costs", "Vendor\tCost", "Acme\t900"]
    assert ("slides", "2") in e.metadata


def test_html_text_by_block_without_scripts() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Saved chat</title><style>p{}</style></head>"
        b"<body><p>Hello <b>there</b> friend</p><script>alert('x')</script>"
        b"<div>second block</div><!-- a comment --></body></html>"
    )
    e = extract("page.html", page)
    assert e.kind is Kind.HTML
    assert e.text.splitlines() == ["Saved chat", "Hello there friend", "second block"]


def test_html_declared_charset_is_honoured() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body><p>café déjà</p></body></html>'
    e = extract("page.htm", page.encode("cp1252"))
    assert e.text == "café déjà" and e.problems == ()


def test_text_utf8_utf16_and_bad_bytes() -> None:
    assert extract("a.txt", "\ufeffLínea uno\r\nline two".encode()).text == "Línea uno\nline two"
    utf16 = extract("b.txt", "Unicode notepad text".encode("utf-16"))
    assert (utf16.kind, utf16.text, utf16.problems) == (Kind.TEXT, "Unicode notepad text", ())
    bad = extract("c.txt", b"price \xa3100")
    assert bad.text == "price \ufffd100"
    assert [p.code for p in bad.problems] == [ProblemCode.NOT_UTF8]


def test_csv_is_kind_csv_and_keeps_its_text() -> None:
    data = b'name,note\r\nDana,"said ""libgen"" twice"\r\n'
    e = extract("export.csv", data)
    assert e.kind is Kind.CSV and e.media_type == "text/csv"
    assert e.text.splitlines() == ["name,note", 'Dana,"said ""libgen"" twice"']


def test_content_decides_over_the_name() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inside.txt", "words in a zip")
    e = extract("invoice.pdf", buf.getvalue())
    assert e.kind is Kind.ZIP
    assert [m.name for m in e.members] == ["inside.txt"]
    mail = extract("noname", b"From: a@example.com\r\nSubject: hi\r\n\r\nbody text\r\n")
    assert mail.kind is Kind.EML


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("notes.rtf", b"{\\rtf1\\ansi hello}", ProblemCode.UNSUPPORTED),
        ("a.7z", b"7z\xbc\xaf\x27\x1c\x00\x04rest", ProblemCode.UNSUPPORTED),
        ("blob.bin", bytes(range(256)) * 4, ProblemCode.UNSUPPORTED),
        ("report.docx", b"this is plain text, not a document", ProblemCode.CORRUPT),
        ("photo.png", b"\x00\x01\x02binary but not an image", ProblemCode.CORRUPT),
    ],
)
def test_unsupported_and_mislabelled_files_are_reported(
    name: str, data: bytes, code: ProblemCode
) -> None:
    e = extract(name, data)
    assert [p.code for p in e.problems] == [code]
    assert e.sections == () and e.sha256 == hashlib.sha256(data).hexdigest()


def test_odt_and_other_zip_documents_are_unsupported() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<x/>")
    e = extract("letter.odt", buf.getvalue())
    assert [p.code for p in e.problems] == [ProblemCode.UNSUPPORTED]
    assert "OpenDocument" in e.problems[0].message


def test_empty_file() -> None:
    e = extract("empty.docx", b"")
    assert (e.kind, e.size, e.sections) == (Kind.DOCX, 0, ())
    assert [p.code for p in e.problems] == [ProblemCode.NO_TEXT]
