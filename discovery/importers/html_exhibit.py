"""HTML exhibits: a saved chat page, or a transcript rendered as HTML.

The page is parsed with beautifulsoup4 and Python's own ``html.parser``:
never executed, and nothing it refers to (images, scripts, styles, frames)
is fetched. Its text is laid out as a browser would break it into lines:
block elements (``p``, ``div``, ``li``, ``tr``, headings, ...) and ``<br>``
end a line, inline elements (``b``, ``span``, ``a``) do not, runs of
whitespace are one space except inside ``<pre>``. The text of ``script``,
``style`` and ``template`` elements and comments is not page text and is left
out; everything else is kept, hidden elements included (a reviewer should see
what the file holds, not what a stylesheet chose to show).

Each line is located by the source line of the element it starts in
(``line 12``; ``line 12, part 2`` for a second line from the same source
line). The lines then go through the transcript parser
(:func:`discovery.importers.transcript.read_transcript_lines`): transcript
layouts become messages with speakers and times, the lines after a header
continue its message, and text before the first message is kept as one
system message. A page with no transcript line has no time to place its text
at; that is reported, not guessed.

This importer is the fallback for HTML: formats with their own HTML layout
(Messenger ``message_1.html``, Telegram ``messages.html``) are sniffed first.
It accepts files named ``.html``/``.htm``/``.xhtml`` that start with markup,
and files of any name that start with ``<!DOCTYPE html`` or ``<html``.

One conversation per file: key = the file name plus the start of its SHA-256
(``ImportContext.file_key``), name = the file name, kind ``exhibit``, platform
``html``. Text is read as UTF-8 (bad bytes reported and shown as U+FFFD) unless
the page declares another charset in a ``<meta>``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import decode_html, head, read_bytes
from discovery.importers.transcript import match_header, read_transcript_lines
from discovery.model import ConversationKind

PLATFORM = "html"
SNIFF_BYTES = 4096
MAX_BYTES = 64 * 1024 * 1024
"""Larger HTML files are refused: a chat exhibit page is far smaller, and the parse is in memory."""
SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

_BLOCK_NAMES = (
    "address article aside blockquote body caption center dd details dialog dir div dl dt"
    " fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li"
    " main menu nav ol p pre section summary table tbody tfoot thead title tr ul"
)
BLOCK = frozenset(_BLOCK_NAMES.split(" "))
"""Elements that start and end a line of text."""
CELLS = frozenset({"td", "th"})
SKIP = frozenset({"script", "style", "template", "head"})
"""Elements whose text is not page text (``head`` is walked only for its ``title``)."""
_MARKUP_START = re.compile(rb"^\s*<", re.S)
_HTML_START = re.compile(rb"^\s*<(?:!doctype\s+html|html[\s>])", re.I)
_WS = re.compile(r"[ \t\n\r\f\v]+")


def _platform_html(path: Path) -> bool:
    """Whether a platform's own HTML reader claims ``path`` (no file is claimed twice)."""
    from discovery.importers.meta import MetaImporter  # imported here: they import this module's
    from discovery.importers.telegram import TelegramImporter  # neighbours, not this one

    return MetaImporter().sniff(path) or TelegramImporter().sniff(path)


class HtmlExhibitImporter:
    """Reads HTML exhibits (one conversation per file); the fallback for any HTML."""

    name = "html"

    def sniff(self, path: Path) -> bool:
        """True for ``.html``/``.htm`` markup, or any file that opens as an HTML document."""
        raw = head(path, SNIFF_BYTES)
        if raw is None:
            return False
        start = raw.removeprefix(b"\xef\xbb\xbf")
        if path.suffix.lower() in SUFFIXES:
            html = bool(_MARKUP_START.match(start))
        else:
            html = bool(_HTML_START.match(start))
        return html and not _platform_html(path)

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                yield ImportProblem(
                    ctx.display_path,
                    f"HTML file of {size:,} bytes is over the {MAX_BYTES:,}-byte limit; not read",
                )
                return
        except OSError as e:
            yield ImportProblem(ctx.display_path, f"cannot read the file ({e.strerror or e})")
            return
        raw, problems = read_bytes(path, ctx.display_path)
        yield from problems
        if raw is None:
            return
        markup, problems = decode_html(raw, ctx.display_path)
        yield from problems
        lines = html_lines(markup)
        key = ctx.file_key(path.name)
        if not any(match_header(text) for _, text in lines):
            kept = [(where, text) for where, text in lines if text.strip()]
            if not kept:
                yield ImportProblem(ctx.display_path, "no page text")
                return
            yield ImportProblem(
                ctx.display_path,
                "no transcript lines ('Name (date time): text' and the like):"
                f" the page's {len(kept)} line(s) kept as one undated message",
            )
            yield RawConversation(PLATFORM, key, path.name, ConversationKind.EXHIBIT)
            yield RawMessage(
                platform=PLATFORM,
                conversation_key=key,
                native_id=kept[0][0],
                speaker_id="",
                speaker="",
                sent_at=None,
                text="\n".join(text for _, text in kept),
                location=kept[0][0],
            )
            return
        yield from read_transcript_lines(
            lines, key, ctx.display_path, platform=PLATFORM, name=path.name, order=ctx.date_order
        )


def html_lines(raw: bytes | str) -> list[tuple[str, str]]:
    """The text lines of an HTML document as ``(location, text)``, blank lines dropped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a URL or file
        soup = BeautifulSoup(raw, "html.parser")
    out: list[tuple[int, str]] = []
    current: list[str] = []
    start = [0]
    pre_line = [False]

    def flush() -> None:
        text = "".join(current)
        if text.strip():
            # Preformatted lines keep their indentation; others lose collapsed edge spaces.
            out.append((start[0], text.rstrip() if pre_line[0] else text.strip()))
        current.clear()
        pre_line[0] = False

    # An explicit stack, not recursion: a hostile page may nest thousands of elements deep.
    stack: list[tuple[object, bool]] = [(soup, False)]
    while stack:
        node, pre = stack.pop()
        if node is None:  # the end of a block element
            flush()
        elif isinstance(node, Tag):
            name = (node.name or "").lower()
            if node is not soup and name == "head":
                title = node.find("title")
                if isinstance(title, Tag):
                    stack.append((title, pre))
                continue
            if node is not soup and name in SKIP:
                continue
            if name == "br":
                flush()
                continue
            inner = pre or name == "pre"
            if name in CELLS:
                current.append(" ")  # cells of a row read as one line, a space apart
            if name in BLOCK:
                flush()
                stack.append((None, pre))
            stack.extend((child, inner) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(
            node, Comment | Declaration | Doctype | ProcessingInstruction
        ):
            text = str(node)
            if not "".join(current).strip():
                line_no = getattr(node.parent, "sourceline", None)
                start[0] = line_no if isinstance(line_no, int) else 0
            if pre:
                base = start[0]
                for i, part in enumerate(re.split(r"\r\n|\r|\n", text)):
                    if i:
                        flush()
                        start[0] = base + i
                    pre_line[0] = True
                    current.append(part)
            else:
                current.append(_WS.sub(" ", text))

    flush()
    located: list[tuple[str, str]] = []
    seen: dict[int, int] = {}
    for line_no, text in out:
        seen[line_no] = seen.get(line_no, 0) + 1
        where = f"line {line_no}" if seen[line_no] == 1 else f"line {line_no}, part {seen[line_no]}"
        located.append((where, text))
    return located
