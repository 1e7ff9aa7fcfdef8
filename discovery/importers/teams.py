"""Microsoft Teams: Graph ``chatMessage`` JSON, as exported per team channel or per chat.

Accepted shapes (keys are matched case-insensitively, so the camelCase Graph
REST form and the PascalCase .NET serialisation, as in ``TeamsDataExport``
trees, read alike):

* a JSON array of chatMessage objects;
* a Graph page ``{"value": [...]}`` (optionally with ``@odata.context``), or
  ``{"messages": [...]}`` with an optional ``topic``/``displayName``;
* one chatMessage object.

Messages may carry their replies nested in ``replies`` (``$expand=replies``).

Decisions worth knowing:

* Conversation key: ``chatId`` for chats, ``channelIdentity.channelId`` for
  channels, else the file name. Graph messages do not carry a channel's
  name: the conversation is named after the document's ``topic`` or
  ``displayName`` when present, else its key.
* Text: the HTML body rendered as a reader saw it (beautifulsoup4, the stdlib
  ``html.parser``; nothing is fetched or run). Consecutive ``<at id="N">``
  tags with the same id are ONE mention: ``<at id="0">Megan</at>
  <at id="0">Bowen</at>`` becomes ``@Megan Bowen``. Emoji images become their
  ``alt`` text. A channel post's ``subject`` is the first line of the text.
* Quoted and forwarded messages (``messageReference`` /
  ``forwardedMessageReference`` attachments): their preview is appended to
  the text as ``> Sender: preview``, as an email client quotes; the quoted
  message id is kept in ``extra['quoted_id']``. Other attachments (files,
  cards) are recorded as attachments, their names searchable only there.
* System events (``<systemEventMessage/>`` bodies, ``messageType``
  ``systemEventMessage``/``unknownFutureValue``, an ``eventDetail``) are kept
  with ``system=True``, a readable text built from the event detail
  ("Ann Lee added Bo Chen") and the initiator as speaker. Ids without a
  display name are resolved from the other messages of the file.
* ``replyToId`` is the thread root; ``lastEditedDateTime`` (or, when that key
  is absent, a ``lastModifiedDateTime`` later than creation) sets ``edited``;
  ``deletedDateTime`` sets ``deleted`` and a body still present is kept.
* Reactions are grouped by ``reactionType`` (or ``displayName``), users by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag

from discovery.errors import ImportProblem
from discovery.families import Held, held
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.jsondoc import items, looks_like_json, mapping, text_of
from discovery.importers.textio import head_text, load_json
from discovery.importers.times import parse_iso
from discovery.model import Attachment, ConversationKind, Participant, Reaction

PLATFORM = "teams"
SYSTEM_TYPES = frozenset({"systemeventmessage", "unknownfuturevalue"})
REFERENCE_TYPES = frozenset({"messagereference", "forwardedmessagereference"})
_BLOCKS = frozenset(
    {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol"}
)
_SNIFF_KEYS = ('"createddatetime"', '"body"')
_SNIFF_ANY = ('"messagetype"', '"channelidentity"', '"chatid"', '"replytoid"')


def lower_keys(value: Any) -> Any:
    """A JSON value with every object key lower-cased (PascalCase and camelCase alike)."""
    if isinstance(value, Mapping):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def _g(obj: Any, *path: str) -> Any:
    """Walk lower-cased keys; None where the path breaks."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


class TeamsImporter:
    """Reads Microsoft Teams Graph chatMessage JSON (channel or chat)."""

    name = "teams"

    def sniff(self, path: Path) -> bool:
        """A JSON file whose head has chatMessage keys (createdDateTime, body, messageType...)."""
        text = head_text(path)
        if not looks_like_json(text):
            return False
        low = text.lower()  # type: ignore[union-attr]
        return all(k in low for k in _SNIFF_KEYS) and any(k in low for k in _SNIFF_ANY)

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        value, problems = load_json(path, ctx.display_path)
        yield from problems
        if value is None and problems:
            return
        try:
            doc = lower_keys(value)
        except RecursionError:
            yield ImportProblem(ctx.display_path, "not valid JSON: nested too deeply")
            return
        yield from read_document(doc, path.stem, ctx.display_path, path.parent)


def _messages_of(doc: Any) -> tuple[list[Any], str] | None:
    """The message list of a document and the conversation name it gives ('' if none)."""
    if isinstance(doc, list):
        return doc, ""
    if isinstance(doc, Mapping):
        name = _s(doc.get("topic")) or _s(doc.get("displayname"))
        for key in ("value", "messages"):
            if isinstance(doc.get(key), list):
                return doc[key], name
        if "createddatetime" in doc:
            return [doc], ""
    return None


def read_document(
    doc: Any, fallback_key: str, where: str, folder: Path | None = None
) -> Iterator[ImportItem]:
    """The items of a lower-cased Teams document (see the module doc); ``folder`` is where
    the document is, to find the files it names (:func:`_held_file`)."""
    found = _messages_of(doc)
    if found is None:
        yield ImportProblem(where, "not a list of Teams messages")
        return
    entries, doc_name = found
    flat: list[tuple[int, Any, str | None]] = []  # (entry number, message, parent id)
    for n, entry in enumerate(entries, start=1):
        flat.append((n, entry, None))
        if isinstance(entry, Mapping):
            root_id = _s(entry.get("id")) or None
            for reply in items(entry.get("replies")):
                flat.append((n, reply, root_id))
    names = _names(m for _, m, _ in flat)
    seen: set[str] = set()
    for n, entry, parent in flat:
        if not isinstance(entry, Mapping):
            yield ImportProblem(where, "entry is not a message object; skipped", n)
            continue
        key, kind = _conversation_of(entry, fallback_key)
        if key not in seen:
            seen.add(key)
            yield RawConversation(
                platform=PLATFORM,
                key=key,
                name=doc_name or key,
                kind=kind,
                participants=tuple(Participant(i, nm) for i, nm in sorted(names.items())),
            )
        yield _message(entry, n, key, parent, names, where, folder)


FILES_FOLDER = "files"


def _held_file(folder: Path | None, name: str) -> Held | None:
    """A file attachment the export holds: ``files/NAME`` beside the JSON document."""
    if folder is None or not name or "/" in name or "\\" in name or name in (".", ".."):
        return None
    p = folder / FILES_FOLDER / name
    return Held(str(p)) if p.is_file() else None


def _names(messages: Iterator[Any]) -> dict[str, str]:
    """Display names by user/application id, from every sender and mention in the file."""
    out: dict[str, str] = {}

    def note(ident: Any) -> None:
        for role in ("user", "application", "device"):
            who = _g(ident, role)
            if isinstance(who, Mapping) and _s(who.get("id")) and _s(who.get("displayname")):
                out.setdefault(_s(who["id"]), _s(who["displayname"]))

    for m in messages:
        if not isinstance(m, Mapping):
            continue
        note(m.get("from"))
        for mention in items(m.get("mentions")):
            note(_g(mention, "mentioned"))
        for member in items(_g(m, "eventdetail", "members")):
            if (
                isinstance(member, Mapping)
                and _s(member.get("id"))
                and _s(member.get("displayname"))
            ):
                out.setdefault(_s(member["id"]), _s(member["displayname"]))
    return out


def _conversation_of(m: Mapping[str, Any], fallback: str) -> tuple[str, ConversationKind]:
    chat = _s(m.get("chatid"))
    if chat:
        kind = ConversationKind.DIRECT if "unq.gbl.spaces" in chat else ConversationKind.GROUP
        return chat, kind
    channel = _s(_g(m, "channelidentity", "channelid"))
    return channel or fallback, ConversationKind.CHANNEL


def _identity(ident: Any, names: Mapping[str, str]) -> tuple[str, str]:
    """(id, display name) of a Graph identitySet (user, then application, then device)."""
    for role in ("user", "application", "device"):
        who = _g(ident, role)
        if isinstance(who, Mapping):
            wid = _s(who.get("id"))
            name = _s(who.get("displayname")) or names.get(wid, "")
            if wid or name:
                if not name:
                    name = "an app" if role == "application" else wid
                return wid or name, name
    return "", ""


def _message(
    m: Mapping[str, Any],
    n: int,
    conv: str,
    parent: str | None,
    names: Mapping[str, str],
    where: str,
    folder: Path | None = None,
) -> ImportItem:
    native = _s(m.get("id"))
    sent = parse_iso(m.get("createddatetime"))
    if sent is None:
        return ImportProblem(where, f"message {native or '?'} has no readable createdDateTime", n)
    body = mapping(m.get("body"))
    content = text_of(body.get("content"))
    is_html = _s(body.get("contenttype")).lower() != "text"
    detail = m.get("eventdetail") if isinstance(m.get("eventdetail"), Mapping) else None
    mtype = _s(m.get("messagetype")).lower()
    system = (
        mtype in SYSTEM_TYPES
        or "<systemeventmessage" in content.lower()
        or (detail is not None and any(v is not None for v in detail.values()))
    )
    speaker_id, speaker = _identity(m.get("from"), names)
    if system:
        init_id, init_name = _identity(_g(detail, "initiator"), names)
        speaker_id, speaker = speaker_id or init_id, speaker or init_name
        text = event_text(detail, init_name or speaker, names)
    else:
        text = html_to_text(content) if is_html else content.strip()
    subject = _s(m.get("subject"))
    if subject and not system:
        text = f"{subject}\n{text}" if text else subject
    attachments: list[Attachment] = []
    extra: dict[str, str] = {}
    quotes: list[str] = []
    for att in items(m.get("attachments")):
        if not isinstance(att, Mapping):
            continue
        ctype = _s(att.get("contenttype")).lower()
        if ctype in REFERENCE_TYPES:
            quoted = _reference(att, names)
            if quoted is not None:
                qid, line = quoted
                quotes.append(line)
                if qid:
                    extra["quoted_id"] = qid
                if ctype == "forwardedmessagereference":
                    extra["forwarded"] = "true"
            continue
        name = _s(att.get("name")) or _s(att.get("contenturl")) or ctype or "(attachment)"
        url = _s(att.get("contenturl")) or None
        found = _held_file(folder, _s(att.get("name")))
        attachments.append(
            Attachment(name=name, url=url) if found is None else held(name, found, None, None)
        )
    if quotes:
        text = "\n".join([text, *quotes]) if text else "\n".join(quotes)
    if mtype:
        extra["message_type"] = mtype
    if _s(m.get("importance")) and _s(m.get("importance")).lower() != "normal":
        extra["importance"] = _s(m["importance"])
    if _s(m.get("weburl")):
        extra["web_url"] = _s(m["weburl"])
    if subject:
        extra["subject"] = subject
    created = sent
    if "lastediteddatetime" in m:
        edited = parse_iso(m.get("lastediteddatetime")) is not None
    else:
        modified = parse_iso(m.get("lastmodifieddatetime"))
        edited = modified is not None and _later(modified, created) and not system
    reply_to = _s(m.get("replytoid")) or parent
    return RawMessage(
        platform=PLATFORM,
        conversation_key=conv,
        native_id=native,
        speaker_id=speaker_id or ("system" if system else ""),
        speaker=speaker or ("System" if system else ""),  # none: "(unknown sender)", flagged
        sent_at=sent,
        text=text,
        thread_key=reply_to if reply_to and reply_to != native else None,
        location=f"entry {n}" if not native else f"entry {n} ({native})",
        edited=edited,
        deleted=parse_iso(m.get("deleteddatetime")) is not None,
        system=system,
        reactions=_reactions(m.get("reactions"), names),
        attachments=tuple(attachments),
        extra=extra,
    )


def _later(a: Any, b: Any) -> bool:
    try:
        return bool(a > b)
    except TypeError:  # one naive, one aware
        return False


def _reference(att: Mapping[str, Any], names: Mapping[str, str]) -> tuple[str, str] | None:
    """(quoted id, '> Sender: preview') from a messageReference attachment."""
    raw = att.get("content")
    content: Any = raw
    if isinstance(raw, str):
        try:
            content = lower_keys(json.loads(raw))
        except (json.JSONDecodeError, RecursionError):
            content = {"messagepreview": raw}
    if not isinstance(content, Mapping):
        return None
    qid = _s(content.get("messageid")) or _s(att.get("id"))
    preview = _s(content.get("messagepreview")) or _s(content.get("preview"))
    if "<" in preview:
        preview = html_to_text(preview)
    _, sender = _identity(content.get("messagesender") or content.get("sender"), names)
    if not preview:
        return None
    return qid, f"> {sender}: {preview}" if sender else f"> {preview}"


def _reactions(value: Any, names: Mapping[str, str]) -> tuple[Reaction, ...]:
    grouped: dict[str, list[str]] = {}
    for r in items(value):
        if not isinstance(r, Mapping):
            continue
        emoji = _s(r.get("reactiontype")) or _s(r.get("displayname")) or "(reaction)"
        _, who = _identity(r.get("user"), names)
        grouped.setdefault(emoji, [])
        if who:
            grouped[emoji].append(who)
    return tuple(Reaction(e, tuple(u)) for e, u in grouped.items())


# --- HTML -----------------------------------------------------------------------------------


def html_to_text(html: str) -> str:
    """A Teams HTML body as the plain text a reader saw (mentions joined, emoji as alt)."""
    if "<" not in html and "&" not in html:
        return html.strip()
    soup = BeautifulSoup(html, "html.parser")
    _merge_mentions(soup)
    parts: list[str] = []
    _walk(soup, parts)
    text = "".join(parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _merge_mentions(soup: BeautifulSoup) -> None:
    """Replace runs of ``<at id=N>`` tags with the same id by one ``@Full Name`` string."""
    for at in soup.find_all("at"):
        if at.parent is None:  # already merged into an earlier run
            continue
        ident = at.get("id")
        words = [at.get_text()]
        run: list[Any] = []
        sib = at.next_sibling
        while sib is not None:
            if isinstance(sib, NavigableString) and not str(sib).strip():
                run.append(sib)
            elif isinstance(sib, Tag) and sib.name == "at" and sib.get("id") == ident:
                run.append(sib)
                words.append(sib.get_text())
            else:
                break
            sib = sib.next_sibling
        # drop trailing whitespace that did not lead to another mention tag
        while run and isinstance(run[-1], NavigableString):
            run.pop()
        for node in run:
            node.extract()
        name = " ".join(w.strip() for w in words if w.strip())
        at.replace_with(NavigableString(f"@{name.lstrip('@')}"))


def _walk(node: Tag, parts: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not comments, CDATA, doctype
                parts.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = (child.name or "").lower()
        if name in ("script", "style", "systemeventmessage", "attachment"):
            continue
        if name == "br":
            parts.append("\n")
        elif name in ("img", "emoji"):
            alt = child.get("alt") or child.get("title") or ""
            parts.append(alt if isinstance(alt, str) else " ".join(alt))
        elif name in _BLOCKS:
            parts.append("\n")
            _walk(child, parts)
            parts.append("\n")
        else:
            _walk(child, parts)


# --- system events ----------------------------------------------------------------------------


def _people(value: Any, names: Mapping[str, str]) -> str:
    out = []
    for p in items(value):
        if isinstance(p, Mapping):
            pid = _s(p.get("id"))
            out.append(_s(p.get("displayname")) or names.get(pid, "") or pid or "someone")
    return ", ".join(out) or "someone"


def event_text(detail: Mapping[str, Any] | None, initiator: str, names: Mapping[str, str]) -> str:
    """A readable line for a Teams system event ("Ann Lee added Bo Chen")."""
    who = initiator or "Someone"
    if not detail:
        return "System event"
    kind = _s(detail.get("@odata.type")).rsplit(".", 1)[-1].lower()
    body: Mapping[str, Any] = detail
    if not kind:
        # .NET form: one non-null property named after the event (MembersAdded: {...})
        for key, value in detail.items():
            if key not in ("initiator", "eventtype") and isinstance(value, Mapping):
                kind, body = f"{key}eventmessagedetail", value
                break
    kind = kind.removesuffix("eventmessagedetail")
    members = _people(body.get("members"), names)
    texts = {
        "membersadded": f"{who} added {members}",
        "membersdeleted": f"{who} removed {members}",
        "membersjoined": f"{members} joined",
        "membersleft": f"{members} left",
        "channeladded": f"{who} added the channel {_s(body.get('channeldisplayname'))}",
        "channeldeleted": f"{who} deleted the channel {_s(body.get('channeldisplayname'))}",
        "channelrenamed": f"{who} renamed the channel to {_s(body.get('channeldisplayname'))}",
        "channeldescriptionupdated": f"{who} changed the channel description",
        "chatrenamed": f"{who} renamed the chat to {_s(body.get('chatdisplayname'))}",
        "callstarted": f"{who} started a call",
        "callended": "Call ended"
        + (f" ({_s(body.get('callduration'))})" if _s(body.get("callduration")) else ""),
        "callrecording": f"{who} recorded a call",
        "calltranscript": f"{who} transcribed a call",
        "messagepinned": f"{who} pinned a message",
        "messageunpinned": f"{who} unpinned a message",
        "teamcreated": f"{who} created the team {_s(body.get('teamdisplayname'))}",
        "teamrenamed": f"{who} renamed the team to {_s(body.get('teamdisplayname'))}",
        "teamarchived": f"{who} archived the team",
        "teamunarchived": f"{who} unarchived the team",
        "teamsappinstalled": f"{who} installed the app {_s(body.get('teamsappdisplayname'))}",
        "teamsappremoved": f"{who} removed the app {_s(body.get('teamsappdisplayname'))}",
        "teamsappupgraded": f"{who} upgraded the app {_s(body.get('teamsappdisplayname'))}",
        "tabupdated": f"{who} updated a tab",
        "conversationmemberroleupdated": f"{who} changed the role of a member",
    }
    if kind in texts:
        return texts[kind].strip()
    return f"System event by {who}" + (f" ({kind})" if kind else "")
