"""discovery.extract on containers: mail (EML, MSG) and zips, their members and limits.

Members carry the name, size and SHA-256 of the bytes put in them here.
Outlook files are written with aspose-email-foss (MIT, a test dependency).
"""

from __future__ import annotations

import hashlib
from email import message_from_bytes, policy
from email.message import EmailMessage

from discovery.extract import Extraction, Kind, Options, ProblemCode, extract
from tests.extract_inputs import docx_bytes, eml_bytes, xlsx_bytes, zip_bytes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def section(e: Extraction, label: str) -> str:
    return next(s.text for s in e.sections if s.label == label)


def test_eml_headers_body_and_attachments_as_members() -> None:
    memo = docx_bytes(["Attached memo mentions libgen"])
    sheet = xlsx_bytes({"Costs": [["licence", 900]]})
    note = b"plain note words\n"
    e = extract(
        "mail.eml",
        eml_bytes(
            "Budget review",
            "See the attached files.",
            [("memo.docx", memo), ("costs.xlsx", sheet), ("note.txt", note)],
        ),
    )
    assert e.kind is Kind.EML and e.problems == ()
    assert section(e, "headers").splitlines() == [
        "From: Dana Whitfield <dana@example.com>",
        "To: Marcus Chen <marcus@example.com>",
        "Date: Fri, 03 Feb 2023 10:15:00 -0500",
        "Subject: Budget review",
    ]
    assert section(e, "body") == "See the attached files."
    assert [(m.name, m.kind, m.size, m.sha256) for m in e.members] == [
        ("memo.docx", Kind.DOCX, len(memo), sha(memo)),
        ("costs.xlsx", Kind.XLSX, len(sheet), sha(sheet)),
        ("note.txt", Kind.TEXT, len(note), sha(note)),
    ]
    assert e.members[0].text == "Attached memo mentions libgen"
    assert e.members[1].text == "licence\t900"


def test_eml_html_only_body_and_forwarded_message() -> None:
    inner = eml_bytes("Original", "the forwarded words", [("deep.txt", b"deep attachment")])
    outer = EmailMessage()
    outer["From"] = "marcus@example.com"
    outer["Subject"] = "Fwd: Original"
    outer.set_content("<p>Forwarding <b>this</b></p><p>below</p>", subtype="html")
    outer.add_attachment(message_from_bytes(inner, policy=policy.default), filename="original.eml")
    e = extract("fwd.eml", outer.as_bytes())
    assert section(e, "body") == "Forwarding this\nbelow"
    [forwarded] = e.members
    assert (forwarded.name, forwarded.kind) == ("original.eml", Kind.EML)
    assert section(forwarded, "body") == "the forwarded words"
    # the forwarded message's own attachment belongs to it, not to the outer mail
    assert [m.name for m in forwarded.members] == ["deep.txt"]
    assert forwarded.members[0].text == "deep attachment"


def test_eml_forwarded_message_sent_base64_is_decoded() -> None:
    inner = b"From: x@example.com\r\nSubject: inner\r\n\r\nbase64 wrapped words\r\n"
    outer = EmailMessage()
    outer["Subject"] = "Fwd"
    outer.set_content("see below")
    outer.add_attachment(inner, maintype="message", subtype="rfc822", filename="inner.eml")
    [forwarded] = extract("fwd.eml", outer.as_bytes()).members
    assert (forwarded.kind, forwarded.sha256) == (Kind.EML, sha(inner))
    assert section(forwarded, "body") == "base64 wrapped words"


def test_eml_body_in_a_wrong_charset_is_reported() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"\r\nna\xefve caf\xe9\r\n"
    )
    e = extract("bad.eml", raw)
    assert section(e, "body") == "na\ufffdve caf\ufffd"
    assert [p.code for p in e.problems] == [ProblemCode.NOT_UTF8]


def outlook_message() -> tuple[bytes, bytes]:
    from aspose.email_foss import msg

    attachment = b"secret attachment words\n"
    message = msg.MapiMessage.create("Quarterly budget", "Please see the attached notes")
    message.set_property(msg.PropertyId.SENDER_NAME, "Dana Whitfield")
    message.add_recipient("marcus@example.com", display_name="Marcus Chen")
    message.add_attachment("notes.txt", attachment, mime_type="text/plain")
    embedded = msg.MapiMessage.create("Inner mail", "inner body words")
    message.add_embedded_message_attachment(embedded, filename="earlier.msg")
    return message.to_bytes(), attachment


def test_msg_headers_body_attachment_and_embedded_message() -> None:
    data, attachment = outlook_message()
    e = extract("budget.msg", data)
    assert e.kind is Kind.MSG and e.problems == ()
    assert section(e, "headers").splitlines() == [
        "From: Dana Whitfield",
        "To: Marcus Chen <marcus@example.com>",
        "Subject: Quarterly budget",
    ]
    assert section(e, "body") == "Please see the attached notes"
    first, second = e.members
    assert (first.name, first.size, first.sha256) == ("notes.txt", len(attachment), sha(attachment))
    assert first.text == attachment.decode()
    assert (second.name, second.kind) == ("earlier.msg", Kind.MSG)
    assert section(second, "body") == "inner body words"


def test_damaged_msg_is_reported() -> None:
    data, _ = outlook_message()
    e = extract("budget.msg", data[: len(data) // 2])
    assert e.kind is Kind.MSG
    assert [p.code for p in e.problems] == [ProblemCode.CORRUPT]


def test_zip_members_nested_zips_and_junk() -> None:
    inner = zip_bytes([("deep/chat.txt", b"deep words")])
    data = zip_bytes(
        [
            ("a/notes.txt", b"top words"),
            ("__MACOSX/a/._notes.txt", b"junk"),
            (".DS_Store", b"junk"),
            ("inner.zip", inner),
        ]
    )
    e = extract("collection.zip", data)
    assert e.problems == ()
    assert [(m.name, m.kind) for m in e.members] == [
        ("a/notes.txt", Kind.TEXT),
        ("inner.zip", Kind.ZIP),
    ]
    assert e.members[1].sha256 == sha(inner)
    [deep] = e.members[1].members
    assert (deep.name, deep.text) == ("deep/chat.txt", "deep words")
    assert [m.name for m in e.walk()] == [
        "collection.zip",
        "a/notes.txt",
        "inner.zip",
        "deep/chat.txt",
    ]


def test_zip_unsafe_names_are_read_and_reported() -> None:
    e = extract("evil.zip", zip_bytes([("../../etc/passwd.txt", b"climbing words")]))
    [member] = e.members
    assert member.text == "climbing words"
    [problem] = e.problems
    assert (problem.code, problem.where) == (ProblemCode.UNSAFE_NAME, "../../etc/passwd.txt")


def test_encrypted_zip_member_is_listed_with_its_declared_size() -> None:
    data = bytearray(zip_bytes([("sealed.txt", b"x" * 123), ("open.txt", b"open words")]))
    # zipfile cannot encrypt: set the "encrypted" flag of the first member's headers by hand
    data[data.index(b"PK\x03\x04") + 6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    e = extract("mixed.zip", bytes(data))
    sealed, opened = e.members
    assert (sealed.name, sealed.size, sealed.sha256) == ("sealed.txt", 123, None)
    assert [p.code for p in sealed.problems] == [ProblemCode.ENCRYPTED]
    assert opened.text == "open words"


def test_zip_bomb_member_is_refused_and_the_rest_read() -> None:
    data = zip_bytes([("zeros.txt", bytes(20 * 1024 * 1024)), ("real.txt", b"real words")])
    e = extract("bomb.zip", data)
    bomb, real = e.members
    assert bomb.sha256 is None and bomb.size == 20 * 1024 * 1024
    assert [p.code for p in bomb.problems] == [ProblemCode.OVERSIZED]
    assert "zip bomb" in bomb.problems[0].message
    assert real.text == "real words"


def test_nesting_depth_limit() -> None:
    level3 = zip_bytes([("c.txt", b"third level")])
    level2 = zip_bytes([("b.zip", level3)])
    e = extract("a.zip", zip_bytes([("a2.zip", level2)]), Options(max_depth=2))
    a2 = e.members[0]
    assert a2.problems == () and [m.name for m in a2.members] == ["b.zip"]
    b = a2.members[0]
    assert (b.kind, b.sha256, b.members) == (Kind.ZIP, sha(level3), ())
    assert [p.code for p in b.problems] == [ProblemCode.OVERSIZED]
    assert "2 containers deep" in b.problems[0].message
    deepest = list(extract("a.zip", zip_bytes([("a2.zip", level2)]), Options(max_depth=3)).walk())
    assert deepest[-1].text == "third level"


def test_too_many_members_refuses_the_archive() -> None:
    data = zip_bytes([(f"m{i}.txt", b"w" * 100) for i in range(5)])
    e = extract("many.zip", data, Options(max_members=3))
    assert e.members == ()
    assert [p.message for p in e.problems] == ["archive refused: 5 members (limit 3)"]


def test_member_count_and_byte_limits_cover_the_whole_tree() -> None:
    three = zip_bytes([(f"m{i}.txt", b"w" * 100) for i in range(3)])
    data = zip_bytes([("one.zip", three), ("two.zip", three)])
    counted = extract("outer.zip", data, Options(max_members=4))
    one, two = counted.members
    assert len(one.members) == 3 and one.problems == ()
    assert two.members == () and [p.code for p in two.problems] == [ProblemCode.OVERSIZED]
    assert "more than 4 nested files" in two.problems[0].message
    sized = extract("outer.zip", data, Options(max_total=len(three) + 250))
    read = [m.sha256 is not None for m in sized.walk()][1:]
    assert read == [True, True, True, False, False]
    assert all(
        p.code is ProblemCode.OVERSIZED
        for m in sized.walk()
        if m.sha256 is None
        for p in m.problems
    )


def test_damaged_zip_member_is_reported() -> None:
    data = bytearray(zip_bytes([("a.txt", b"alpha words " * 50), ("b.txt", b"beta words")]))
    start = data.index(b"a.txt") + len(b"a.txt")
    data[start + 5] ^= 0xFF  # inside a.txt's compressed bytes
    e = extract("crc.zip", bytes(data))
    first, second = e.members
    assert [p.code for p in first.problems] == [ProblemCode.CORRUPT]
    assert second.text == "beta words"
