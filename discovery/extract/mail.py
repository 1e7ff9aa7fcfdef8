"""EML: an email attached to a message (a forward, an ``.eml`` in a zip), read with the stdlib.

Sections: ``headers`` (``From``, ``To``, ``Cc``, ``Bcc``, ``Date``,
``Subject`` as lines, encoded words decoded) and ``body`` (the ``text/plain``
alternative, else the ``text/html`` one as text). Every part with a file name
or ``Content-Disposition: attachment``, and every attached message
(``message/rfc822``), is a member, extracted in turn; an attached message's
bytes (and so its SHA-256) are as the standard library writes it back out.
An S/MIME or PGP-encrypted body is reported as encrypted.
"""

from __future__ import annotations

import base64
import binascii
import quopri
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message

from discovery.extract.core import Body, Walk
from discovery.extract.markup import html_text
from discovery.extract.model import Extraction, Problem, ProblemCode, Section

HEADERS = ("From", "To", "Cc", "Bcc", "Date", "Subject")
_ENCRYPTED = frozenset(
    {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
)


def read(data: bytes, walk: Walk) -> Body:
    msg = message_from_bytes(data, policy=policy.default)
    headers = header_lines(msg)
    plain: str | None = None
    html: str | None = None
    problems: list[Problem] = []
    members: list[Extraction] = []
    for part in leaves(msg):
        ctype = part.get_content_type()
        filename = part.get_filename()
        if ctype in _ENCRYPTED and not filename:
            problems.append(
                Problem(
                    ProblemCode.ENCRYPTED,
                    "encrypted email (S/MIME or PGP); its body cannot be read",
                )
            )
        elif ctype == "message/rfc822":
            members.append(walk.child(filename or "attached message.eml", attached_message(part)))
        elif filename or part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            name = (
                " ".join(str(filename).split())
                if filename
                else f"attachment.{part.get_content_subtype()}"
            )
            members.append(walk.child(name, payload if isinstance(payload, bytes) else b""))
        elif ctype == "text/plain" and plain is None:
            plain, bad = decoded(part)
            problems += bad
        elif ctype == "text/html" and html is None:
            raw, bad = decoded(part)
            html, _ = html_text(raw)
            problems += bad
    body = plain if plain is not None and plain.strip() else html or plain or ""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    sections = [Section("headers", "\n".join(f"{k}: {v}" for k, v in headers))] if headers else []
    if body.strip():
        sections.append(Section("body", body))
    return Body(tuple(sections), tuple(members), tuple(problems), tuple(headers))


def leaves(msg: Message) -> Iterator[Message]:
    """The non-multipart parts in order; an attached message is one part, not opened here."""
    stack = [msg]
    while stack:
        part = stack.pop()
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            payload = part.get_payload()
            parts = (
                [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
            )
            stack.extend(reversed(parts))
        else:
            yield part


def attached_message(part: Message) -> bytes:
    """The bytes of a ``message/rfc822`` part's message."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        raw = inner.as_bytes(policy=policy.default)
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if encoding == "base64":  # not allowed by RFC 2046, but some mailers do it
            try:
                return base64.b64decode(raw, validate=False)
            except binascii.Error:
                return raw
        if encoding == "quoted-printable":
            return quopri.decodestring(raw)
        return raw
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else b""


def header_lines(msg: Message) -> list[tuple[str, str]]:
    """The headers a reader looks at first, decoded (a malformed one as written)."""
    out: list[tuple[str, str]] = []
    for name in HEADERS:
        try:
            value = msg.get(name)
        except Exception:  # a header the policy cannot parse: take it as written
            value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
        if value is not None and str(value).strip():
            out.append((name, " ".join(str(value).split())))
    return out


def decoded(part: Message) -> tuple[str, tuple[Problem, ...]]:
    """A text part's text, and the problem when its bytes do not fit its charset."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload()), ()
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset), ()
    except LookupError:  # an unknown charset name: read as UTF-8
        charset = "utf-8"
        try:
            return payload.decode(charset), ()
        except UnicodeDecodeError:
            pass
    except UnicodeDecodeError:
        pass
    return payload.decode(charset, errors="replace"), (
        Problem(ProblemCode.NOT_UTF8, f"body not valid {charset}; unreadable bytes shown as �"),
    )
