"""HTML: the page's text, laid out in lines as the HTML exhibit importer lays it out.

Parsed, never executed, nothing fetched (``importers.html_exhibit.html_lines``
over ``importers.textio.decode_html``: UTF-8, or the charset a ``<meta>``
declares). ``script``, ``style`` and comments are not text; hidden elements
are. Pages over the importer's size limit are refused.
"""

from __future__ import annotations

from discovery.extract.core import Body, Walk
from discovery.extract.model import Problem, ProblemCode, Section
from discovery.importers.html_exhibit import MAX_BYTES, html_lines
from discovery.importers.textio import decode_html


def read(data: bytes, walk: Walk) -> Body:
    if len(data) > MAX_BYTES:
        return Body(
            problems=(
                Problem(
                    ProblemCode.OVERSIZED,
                    f"HTML of {len(data):,} bytes is over the {MAX_BYTES:,}-byte limit; not read",
                ),
            )
        )
    text, problems = html_text(data)
    return Body((Section("", text),) if text else (), problems=problems)


def html_text(data: bytes | str) -> tuple[str, tuple[Problem, ...]]:
    """The visible text of an HTML page, a line per block, and any decoding problem."""
    if isinstance(data, bytes):
        markup, bad = decode_html(data, "")
        problems = tuple(Problem(ProblemCode.NOT_UTF8, p.reason) for p in bad)
    else:
        markup, problems = data, ()
    return "\n".join(text for _, text in html_lines(markup)), problems
