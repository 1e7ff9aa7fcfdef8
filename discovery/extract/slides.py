"""PPTX: each slide's text and speaker notes, with python-pptx.

A slide is a section ``slide N``: the text of every shape in the slide's
order (groups opened, table cells a tab apart in rows), and its notes follow
as ``slide N notes``. Charts, SmartArt and pictures are not text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from discovery.extract.core import Body, Walk, document_properties
from discovery.extract.model import Section


def read(data: bytes, walk: Walk) -> Body:
    import pptx

    deck = pptx.Presentation(io.BytesIO(data))
    sections: list[Section] = []
    for n, slide in enumerate(deck.slides, start=1):
        sections.append(Section(f"slide {n}", "\n".join(shape_lines(slide.shapes))))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                sections.append(Section(f"slide {n} notes", notes.text.strip()))
    meta = [("slides", str(len(deck.slides))), *document_properties(deck.core_properties)]
    return Body(tuple(sections), metadata=tuple(meta))


def shape_lines(shapes: Iterable[Any]) -> list[str]:
    """The text lines of shapes, groups opened (an explicit stack: groups nest)."""
    lines: list[str] = []
    stack = list(reversed(list(shapes)))
    while stack:
        shape = stack.pop()
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            stack.extend(reversed(list(shape.shapes)))
            continue
        if getattr(shape, "has_table", False):
            for row in shape.table.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if any(cells):
                    lines.append("\t".join(c for c in cells if c))
        elif getattr(shape, "has_text_frame", False):
            lines.extend(line for line in shape.text_frame.text.splitlines() if line.strip())
    return lines
