"""MSG: an Outlook message, read with extract-msg.

Sections as for EML: ``headers`` (From, To, Cc, Bcc, Date, Subject) and
``body`` (the plain-text body, else the HTML body as text, else the RTF
body's text). Each attachment is a member: a file by its long file name
(else its short one), an embedded Outlook message as ``NAME.msg`` written out
by extract-msg (its SHA-256 is of those bytes). Attachments that are only
links (by reference) have no bytes to read and are reported.
"""

from __future__ import annotations

from typing import Any

from discovery.extract.core import Body, Walk, refused, why
from discovery.extract.markup import html_text
from discovery.extract.model import Extraction, Problem, ProblemCode, Section


def read(data: bytes, walk: Walk) -> Body:
    import extract_msg

    msg = extract_msg.openMsg(data, delayAttachments=True)
    try:
        headers = _headers(msg)
        body, problems = _body(msg)
        members = []
        try:
            attachments = list(getattr(msg, "attachments", []) or [])
        except Exception as e:  # a damaged attachment table: the message still reads
            attachments = []
            problems.append(Problem(ProblemCode.CORRUPT, f"attachments unreadable ({why(e)})"))
        for n, att in enumerate(attachments, start=1):
            members.append(_member(att, n, walk))
    finally:
        msg.close()
    sections = [Section("headers", "\n".join(f"{k}: {v}" for k, v in headers))] if headers else []
    if body.strip():
        sections.append(Section("body", body))
    return Body(tuple(sections), tuple(members), tuple(problems), tuple(headers))


def _headers(msg: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for label, attr in (
        ("From", "sender"),
        ("To", "to"),
        ("Cc", "cc"),
        ("Bcc", "bcc"),
        ("Date", "date"),
        ("Subject", "subject"),
    ):
        try:
            value = getattr(msg, attr, None)
        except Exception:  # a damaged property stream: that header is left out
            value = None
        if value is not None and str(value).strip():
            text = value.isoformat() if hasattr(value, "isoformat") else str(value)
            out.append((label, " ".join(text.split())))
    return out


def _body(msg: Any) -> tuple[str, list[Problem]]:
    problems: list[Problem] = []
    for attr in ("body", "htmlBody"):
        try:
            value = getattr(msg, attr, None)
        except Exception as e:  # a body in a broken encoding: try the next form
            problems.append(Problem(ProblemCode.CORRUPT, f"{attr} unreadable ({why(e)})"))
            continue
        if isinstance(value, bytes):
            value, _ = html_text(value)
        if value and str(value).strip():
            text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip("\n")
            return text, []
    try:
        rtf = msg.deencapsulatedRtf
        if rtf is not None and getattr(rtf, "content_type", "") == "html":
            return html_text(rtf.html)[0], []
        if rtf is not None and getattr(rtf, "text", None):
            return str(rtf.text).strip("\n"), []
    except Exception as e:  # RTF that does not de-encapsulate
        problems.append(Problem(ProblemCode.CORRUPT, f"RTF body unreadable ({why(e)})"))
    return "", problems


def _member(att: Any, n: int, walk: Walk) -> Extraction:
    name = (
        getattr(att, "longFilename", None)
        or getattr(att, "shortFilename", None)
        or getattr(att, "displayName", None)
        or f"attachment {n}"
    )
    name = " ".join(str(name).split())
    try:
        data = att.data
    except Exception as e:  # a damaged attachment: listed with the problem
        return refused(name, None, Problem(ProblemCode.CORRUPT, f"unreadable ({why(e)})"))
    if isinstance(data, bytes):
        return walk.child(name, data)
    if hasattr(data, "exportBytes"):  # an embedded Outlook message
        if not name.lower().endswith(".msg"):
            name += ".msg"
        try:
            try:
                raw = data.exportBytes()
            except Exception:  # some writers leave a top-level stream in an embedded message
                raw = data.exportBytes(allowBadEmbed=True)
        except Exception as e:  # it cannot be written out: listed with the problem
            return refused(name, None, Problem(ProblemCode.CORRUPT, f"unreadable ({why(e)})"))
        return walk.child(name, raw)
    return refused(
        name,
        None,
        Problem(ProblemCode.UNSUPPORTED, "attachment without contents (a link or an OLE object)"),
    )
