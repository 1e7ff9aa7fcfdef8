"""Email: single messages (``.eml``) and mailboxes (``.mbox``), through the stdlib.

(Named ``mail`` so that it never shadows the standard library's ``email``.)

Decisions worth knowing:

* **Parsing** is the standard library's (``email`` with the default policy):
  RFC 2047 encoded-word headers, quoted-printable and base64 bodies and every
  charset Python knows. A part in an unknown charset is decoded as UTF-8 with
  replacement characters.
* **Body**: the ``text/plain`` alternative is preferred; without one the
  ``text/html`` part is turned into text with beautifulsoup4 (its own parser;
  nothing is executed or fetched). The searchable text is ``Subject: …``, a
  blank line, then the body, so that subject words are found like any other
  (as in an e-discovery platform's extracted text).
* **Attachments**: every part with a file name or ``Content-Disposition:
  attachment``, with its decoded size and SHA-256. Attachment contents are not
  indexed.
* **Times**: ``Date`` with its offset (aware); ``-0000`` (explicitly "zone
  unknown") gives a naive time, read in ``--tz``. Without a readable ``Date``
  an mbox message takes the time of its ``From `` separator line (naive;
  the report counts it); otherwise the message is kept undated (it sorts
  last) with a problem saying so. An ``.eml`` with no headers at all is one
  undated message from "(unknown sender)".
* **Threads**: the conversation is the thread (kind ``email thread``). Its key
  is the root Message-ID: the first id in ``References``, else
  ``In-Reply-To``, else the message's own ``Message-ID``; a message with none
  of these is filed by its normalised subject (``Thread-Topic`` when present,
  else ``Subject`` without ``Re:``/``Fwd:``/``AW:``… prefixes), key
  ``subject:<lower-cased subject>``. ``thread_key`` is the root's id (None for
  the root itself), so replies hang under the root in every view. The name
  shown is the ``Thread-Topic`` or normalised subject.
* **People**: speaker = the ``From`` display name as written (the address
  when there is none): also from an RFC 5322 comment (``user@host (Name)``)
  and a list archive's ``user at host (Name)``, encoded words decoded;
  speaker_id = the address, lower-cased. Participants: every From, To
  and Cc address of the thread's messages in the source.
* **mbox**: a message starts at a line beginning ``From `` at the start of the
  file or after a blank line (a ``From `` inside a paragraph is text). The
  ``>From`` quoting of mboxrd and mboxo is undone: one ``>`` is removed from
  every line matching ``^>+From `` (the mboxrd rule; in mboxo a line that
  really began with ``>From`` cannot be told apart and is unquoted too).
  ``native_id`` is the Message-ID (angle brackets removed); ``location`` is
  ``message N`` (``line L``) in a mailbox.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

from bs4 import BeautifulSoup

from discovery.errors import ImportProblem
from discovery.families import Held, held
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import head, read_bytes
from discovery.model import Attachment, ConversationKind, Participant

PLATFORM = "email"
SNIFF_BYTES = 16 * 1024
HEADER_RE = re.compile(rb"^([A-Za-z0-9-]{1,76}):", re.MULTILINE)
FROM_LINE_RE = re.compile(rb"^From \S")
QUOTED_FROM_RE = re.compile(rb"^>(>*From )", re.MULTILINE)
ASCTIME_RE = re.compile(
    r"([A-Z][a-z]{2})\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}:\d{2}:\d{2})\s+(\d{4})"
)
ID_RE = re.compile(r"<([^<>\s]+)>")
PREFIX_RE = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|tr|rv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_CORE_HEADERS = {b"from", b"date", b"subject", b"message-id", b"to", b"received", b"mime-version"}


def normalise_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and extra spaces."""
    return " ".join(PREFIX_RE.sub("", subject).split())


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID/In-Reply-To/References header, angle brackets removed."""
    if not value:
        return []
    found = ID_RE.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return found


def _header_names(head: bytes) -> set[bytes]:
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    return {m.group(1).lower() for m in HEADER_RE.finditer(block)}


def _is_rsmf(head: bytes) -> bool:
    """RSMF: a chat in an email envelope, for its own importer."""
    names = _header_names(head)
    return b"x-rsmf-version" in names or b"x-rsmf-generator" in names


def _looks_like_headers(head: bytes) -> bool:
    names = _header_names(head)
    if _is_rsmf(head):
        return False
    return b"from" in names and len(names & _CORE_HEADERS) >= 2


class MailImporter:
    """Reads ``.eml`` messages and ``.mbox`` mailboxes."""

    name = "email"

    def sniff(self, path: Path) -> bool:
        """An ``.eml`` (or extension-less) file of RFC 5322 headers, or an mbox."""
        raw = head(path, SNIFF_BYTES)
        if raw is None:
            return False
        if FROM_LINE_RE.match(raw):
            rest = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
            return _looks_like_headers(rest)
        if path.suffix.lower() == ".eml":
            return not _is_rsmf(raw)  # an .eml is an email, even one without headers
        return path.suffix.lower() == "" and _looks_like_headers(raw)

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        raw, problems = read_bytes(path, ctx.display_path)
        yield from problems
        if raw is None:
            return
        box = Box(ctx.display_path)
        if FROM_LINE_RE.match(raw) or path.suffix.lower() in (".mbox", ".mbx"):
            for n, (line, sep, data) in enumerate(split_mbox(raw, box), start=1):
                box.add(unquote_from(data), f"message {n} (line {line})", line, sep)
        else:
            box.add(raw, "", None, None)
        yield from box.items()


def unquote_from(data: bytes) -> bytes:
    """Undo mboxrd/mboxo ``>From`` quoting (one ``>`` off every ``>+From `` line)."""
    return QUOTED_FROM_RE.sub(rb"\1", data)


def split_mbox(raw: bytes, box: Box) -> Iterator[tuple[int, str, bytes]]:
    """(line of the ``From `` separator, the separator, the message bytes) of an mbox."""
    start_line = 0
    sep = ""
    lines: list[bytes] = []
    prev_blank = True
    for n, line in enumerate(raw.splitlines(keepends=True), start=1):
        if prev_blank and FROM_LINE_RE.match(line):
            if start_line:
                yield start_line, sep, b"".join(lines)
            elif any(x.strip() for x in lines):
                box.problems.append(ImportProblem(box.display, "text before the first message", 1))
            start_line, sep, lines = n, line.decode("latin-1").strip(), []
        else:
            lines.append(line)
        prev_blank = not line.strip()
    if start_line:
        yield start_line, sep, b"".join(lines)


def _from_line_time(sep: str | None) -> datetime | None:
    if not sep:
        return None
    m = ASCTIME_RE.search(sep)
    if not m:
        return None
    try:
        return datetime.strptime(" ".join(m.groups()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None


@dataclass(slots=True)
class _Thread:
    name: str
    people: dict[str, str] = field(default_factory=dict)


class Box:
    """The messages of one source, grouped into threads as they are parsed."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.threads: dict[str, _Thread] = {}
        self.messages: list[RawMessage] = []
        self.problems: list[ImportProblem] = []

    def add(self, data: bytes, location: str, line: int | None, sep: str | None) -> None:
        try:
            msg = BytesParser(policy=policy.default).parsebytes(data)
            raw = self._message(msg, location, sep)
        except Exception as e:  # the email package can fail on any malformed header
            self.problems.append(
                ImportProblem(self.display, f"unreadable message ({type(e).__name__})", line)
            )
            return
        if isinstance(raw, str):
            self.problems.append(ImportProblem(self.display, raw, line))
            return
        message, undecodable = raw
        if message.sent_at is None:  # kept, never dropped: stored undated, sorted last
            self.problems.append(
                ImportProblem(self.display, "message has no readable Date; kept undated", line)
            )
        if undecodable:
            self.problems.append(ImportProblem(self.display, undecodable, line))
        self.messages.append(message)

    def items(self) -> Iterator[ImportItem]:
        if not self.messages and not self.problems:
            yield ImportProblem(self.display, "no email messages found")
            return
        yield from self.problems
        for key, t in self.threads.items():
            yield RawConversation(
                platform=PLATFORM,
                key=key,
                name=t.name or key,
                kind=ConversationKind.EMAIL_THREAD,
                participants=tuple(Participant(a, n) for a, n in t.people.items()),
            )
        yield from self.messages

    def _message(
        self, msg: Message, location: str, sep: str | None
    ) -> tuple[RawMessage, str] | str:
        """The message and its body's byte problem (''), or why the message is skipped."""
        own = message_ids(_header(msg, "Message-ID"))
        native = own[0] if own else ""
        refs = message_ids(_header(msg, "References"))
        reply_to = message_ids(_header(msg, "In-Reply-To"))
        root = refs[0] if refs else (reply_to[0] if reply_to else native)
        subject = _header(msg, "Subject")
        topic = _header(msg, "Thread-Topic") or normalise_subject(subject)
        key = root or f"subject:{topic.lower()}"

        dated_by, when = "", _date(_header(msg, "Date"))
        if when is None:
            when = _from_line_time(sep)
            dated_by = "the mbox 'From ' line" if when is not None else ""
        name, addr = sender(msg)
        speaker = name or addr

        thread = self.threads.setdefault(key, _Thread(topic or "(no subject)"))
        if addr:
            thread.people.setdefault(addr, name or addr)
        for field_name in ("To", "Cc"):
            for n, a in getaddresses([_header(msg, field_name)]):
                if a:
                    thread.people.setdefault(a.lower(), n or a.lower())

        body, attachments, undecodable = _body(msg)
        text = f"Subject: {subject}\n\n{body}" if subject else body
        message = RawMessage(
            platform=PLATFORM,
            conversation_key=key,
            native_id=native,
            speaker_id=addr,
            speaker=speaker,
            sent_at=when,
            text=text.strip("\n"),
            thread_key=root if root and root != native else None,
            location=location or native or "message 1",
            attachments=attachments,
            dated_by=dated_by,
        )
        return message, undecodable


_ARCHIVE_RE = re.compile(
    r'^"?(?P<user>[^\s"@<>()]+) at (?P<host>[^\s"<>()]+)"?\s*(?:\((?P<name>.*)\))?$'
)
_ANGLE_RE = re.compile(r"^(?P<name>.*?)\s*<(?P<addr>[^<>]*)>\s*(?:\((?P<comment>.*)\))?$")


def _words(value: str) -> str:
    """``value`` with its RFC 2047 encoded words decoded (as written when they do not decode)."""
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, HeaderParseError):
        return value


def sender(msg: Message) -> tuple[str, str]:
    """(display name, lower-cased address) of ``From``, names kept as people wrote them.

    Besides ``Name <user@host>``: the RFC 5322 comment form ``user@host (Name)``,
    mailing-list archives' ``user at host (Name)``, and unquoted commas
    (``Last, First <user@host>``); encoded words in names are decoded.
    """
    raw = ""
    try:
        raw = " ".join(
            str(next((v for k, v in msg.raw_items() if k.lower() == "from"), "")).split()
        )
    except Exception:  # a header the email package cannot even list
        raw = ""
    m = _ARCHIVE_RE.match(raw)
    if m:
        return _words(m.group("name") or "").strip().strip('"'), f"{m['user']}@{m['host']}".lower()
    m = _ANGLE_RE.match(raw)
    if m and "@" in m.group("addr"):
        name = _words(m.group("name").strip().strip('"')) or _words(m.group("comment") or "")
        return name.strip().strip('"'), m.group("addr").strip().lower()
    if raw:
        name, addr = parseaddr(raw)
        if addr and "@" in addr:
            return _words(name).strip().strip('"'), addr.lower()
    name, addr = parseaddr(_header(msg, "From"))
    return name, addr.lower()


def _header(msg: Message, name: str) -> str:
    """A header as text (RFC 2047 decoded); '' when absent or undecodable."""
    try:
        v = msg.get(name)
    except Exception:  # malformed headers can make the default policy raise
        return ""
    return " ".join(str(v).split()) if v is not None else ""


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def _decoded(part: Message) -> tuple[str, str]:
    """A text part's text, and '' or the problem when its bytes do not fit its charset."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset), ""
        except LookupError:  # an unknown charset name: read as UTF-8
            charset = "utf-8"
            try:
                return payload.decode(charset), ""
            except UnicodeDecodeError:
                pass
        except UnicodeDecodeError:
            pass
        label = "UTF-8" if charset.lower().replace("_", "-") in ("utf-8", "utf8") else charset
        if label != "UTF-8":
            try:  # mislabelled: many mailers declare a legacy charset and write UTF-8
                return payload.decode("utf-8"), f"declared {charset} but is UTF-8; read as UTF-8"
            except UnicodeDecodeError:
                pass
        return _lenient(part), f"not valid {label}; unreadable bytes shown as \ufffd"
    return _lenient(part), ""


def _lenient(part: Message) -> str:
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content
        except (LookupError, UnicodeError, ValueError, KeyError, AssertionError):
            pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return ""


_BLOCKS = ("p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")


def html_to_text(html: str) -> str:
    """Visible text of an HTML body: a line per block element, inline markup joined."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_after("\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _leaves(msg: Message, top: bool = True) -> Iterator[Message]:
    """The parts of ``msg`` that are not containers, in order; an attached message
    (``message/rfc822``) is one part, not opened (it is a family member of its own)."""
    if not top and msg.get_content_type() == "message/rfc822":
        yield msg
        return
    if not msg.is_multipart():
        yield msg
        return
    payload = msg.get_payload()
    for sub in payload if isinstance(payload, list) else ():
        if isinstance(sub, Message):
            yield from _leaves(sub, False)


def _attached_message(part: Message) -> tuple[str, bytes]:
    """The file name and bytes of an attached message (as the standard library writes it)."""
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    data = inner.as_bytes() if isinstance(inner, Message) else b""
    subject = str(inner.get("subject", "") or "") if isinstance(inner, Message) else ""
    name = part.get_filename() or f"{' '.join(subject.split()) or 'attached message'}.eml"
    return " ".join(str(name).split()), data


def _body(msg: Message) -> tuple[str, tuple[Attachment, ...], str]:
    """Body text, attachments, and the first undecodable-bytes problem ('' when none).

    Attachments carry their bytes (:class:`~discovery.families.HeldAttachment`),
    so the ingest extracts them as family members.
    """
    undecodable = ""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in _leaves(msg):
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            name, data = _attached_message(part)
            attachments.append(
                held(name, Held(data=data), len(data), hashlib.sha256(data).hexdigest())
            )
        elif filename or disposition == "attachment":
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            name = (
                " ".join(str(filename).split())
                if filename
                else f"attachment.{part.get_content_subtype()}"
            )
            attachments.append(
                held(name, Held(data=data), len(data), hashlib.sha256(data).hexdigest())
            )
        elif ctype == "text/plain" and plain is None:
            plain, bad = _decoded(part)
            undecodable = undecodable or bad
        elif ctype == "text/html" and html is None:
            html, bad = _decoded(part)
            undecodable = undecodable or bad
    if plain is not None and plain.strip():
        body = plain
    elif html is not None:
        body = html_to_text(html)
    else:
        body = plain or ""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    return body.strip("\n"), tuple(attachments), undecodable
