"""A minimal PDF writer for test fixtures: pages of text lines in Helvetica (WinAnsi).

pypdf reads PDFs well but cannot lay out text, and reportlab is not a
dependency; a text PDF is a few hundred bytes written by hand. ``None`` as a
page gives a page with a drawn rectangle and no text (a "scanned" page).
Run ``python tests/pdfmaker.py`` to rewrite the committed fixtures in
``fixtures/pdf/`` (a test checks they are what this writes).
"""

from __future__ import annotations

import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pdf"


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: list[str] | None) -> bytes:
    if lines is None:
        return b"0.5 g 72 500 200 150 re f"
    out = [b"BT /F1 11 Tf 14 TL 72 740 Td"]
    for line in lines:
        out.append(b"(" + _escape(line) + b") Tj T*")
    out.append(b"ET")
    return b"\n".join(out)


def make_pdf(pages: list[list[str] | None], *, creation_date: str | None = None) -> bytes:
    """A PDF of ``pages`` (each a list of text lines, or None for a page without text).

    Args:
        pages: the pages, top to bottom.
        creation_date: a PDF date such as ``D:20230203101500Z`` for the Info dictionary.
    """
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for i, lines in enumerate(pages):
        content = _content(lines)
        page_id = first_page + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources"
            f" << /Font << /F1 {font_id} 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    info_id = None
    if creation_date is not None:
        objects.append(f"<< /CreationDate ({creation_date}) >>".encode())
        info_id = len(objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    info = f" /Info {info_id} 0 R" if info_id else ""
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


FOOTER = "CONFIDENTIAL - Exhibit 12 - Page {n}"

FIXTURE_PAGES: dict[str, tuple[list[list[str] | None], str | None]] = {
    # A chat transcript over two pages, with a cover line, a message continued
    # across the page break, and a repeated page footer.
    "transcript_exhibit.pdf": (
        [
            [
                "EXHIBIT 12",
                "Transcript of messages produced by Acme Corp.",
                "Marcus Chen (3/7/2023 3:12 PM): Honestly? We should just ask forgiveness",
                "Tom Okafor (3/7/2023 3:13 PM): Not for permission?",
                "Marcus Chen (3/7/2023 3:14 PM): Right. The datasets are on the shared drive,",
                FOOTER.format(n=1),
            ],
            [
                "the pirated books folder included.",
                "2023-03-07 15:20 - Dana Whitfield: Please stop writing this down.",
                "2023-03-07 15:21 - Tom Okafor left",
                FOOTER.format(n=2),
            ],
        ],
        None,
    ),
    # A document exhibit with no chat lines: kept per page, dated by its creation date.
    "memo_exhibit.pdf": (
        [
            ["MEMORANDUM", "To: Legal review", "Re: training data sources (licensed only)"],
            ["Second page: no shadow libraries are to be used."],
        ],
        "D:20230210093000Z",
    ),
    # A scan: no text layer at all.
    "scanned.pdf": ([None, None], None),
    # A transcript with one scanned page in the middle.
    "partly_scanned.pdf": (
        [
            ["Ann Lee (2/3/2023 10:15 AM): first page", "Bob Ray (2/3/2023 10:16 AM): still first"],
            None,
            ["Ann Lee (2/3/2023 10:20 AM): third page"],
        ],
        None,
    ),
}


def write_fixtures(folder: Path = FIXTURES) -> list[Path]:
    """Write every fixture PDF into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (pages, date) in FIXTURE_PAGES.items():
        path = folder / name
        path.write_bytes(make_pdf(pages, creation_date=date))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_fixtures(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURES):
        print(p)
