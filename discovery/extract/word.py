"""DOCX: every paragraph the document holds, opened with python-docx.

python-docx opens the package; the text is read from the XML of each part,
since its ``Paragraph.text`` leaves out tracked insertions, content controls
and text boxes. Sections, in this order:

* ``body``: the main text, a line per paragraph (table cells, text boxes and
  tracked insertions included, in document order);
* ``headers and footers``, ``footnotes``, ``endnotes``, ``comments``;
* ``tracked deletions``: text deleted with track changes on, still in the file.

Tabs and line breaks are kept; field codes (``PAGE``, ``HYPERLINK "..."``)
are not text. Text boxes are written twice in the file (the drawing and its
VML fallback); the fallback is skipped, so they are read once.
"""

from __future__ import annotations

import io
from typing import Any

from discovery.extract.core import Body, Walk, document_properties
from discovery.extract.model import Section

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_PARTS = (
    ("document.main+xml", "body"),
    ("header+xml", "headers and footers"),
    ("footer+xml", "headers and footers"),
    ("footnotes+xml", "footnotes"),
    ("endnotes+xml", "endnotes"),
    ("comments+xml", "comments"),
)
_TEXT = {
    f"{W}t": None,
    f"{W}tab": "\t",
    f"{W}br": "\n",
    f"{W}cr": "\n",
    f"{W}noBreakHyphen": "-",
    f"{W}softHyphen": "",
}


def read(data: bytes, walk: Walk) -> Body:
    import docx

    doc = docx.Document(io.BytesIO(data))
    found: dict[str, list[str]] = {label: [] for _, label in _PARTS}
    deleted: list[str] = []
    for part in doc.part.package.iter_parts():
        label = next((name for suffix, name in _PARTS if part.content_type.endswith(suffix)), None)
        element = getattr(part, "element", None)
        if label is None or element is None:
            continue
        lines, gone = paragraphs(element)
        found[label].extend(lines)
        deleted.extend(gone)
    found["tracked deletions"] = deleted
    sections = tuple(Section(label, "\n".join(lines)) for label, lines in found.items() if lines)
    return Body(sections, metadata=tuple(document_properties(doc.core_properties)))


def paragraphs(root: Any) -> tuple[list[str], list[str]]:
    """The text of every paragraph under ``root``, and of its tracked deletions."""
    lines: list[str] = []
    deleted: list[str] = []
    for p in root.iter(f"{W}p"):
        if any(True for _ in p.iterancestors(FALLBACK)):
            continue
        text: list[str] = []
        gone: list[str] = []
        stack = list(reversed(p))
        while stack:
            node = stack.pop()
            tag = node.tag
            if tag == f"{W}p" or tag == FALLBACK or tag == f"{W}instrText":
                continue  # a nested paragraph is read on its own; fallbacks repeat
            if tag in _TEXT:
                fixed = _TEXT[tag]
                text.append((node.text or "") if fixed is None else fixed)
            elif tag == f"{W}delText":
                gone.append(node.text or "")
            stack.extend(reversed(node))
        line = "".join(text)
        if line.strip():
            lines.append(line.rstrip())
        if "".join(gone).strip():
            deleted.append("".join(gone).strip())
    return lines, deleted
