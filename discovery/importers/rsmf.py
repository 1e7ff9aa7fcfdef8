"""RSMF 1.0 and 2.0 (Relativity Short Message Format).

Three ways in, one reader:

* the ``.rsmf`` (or ``.eml``): an email with ``X-RSMF-Version`` headers whose
  attachment ``rsmf.zip`` holds the manifest (read with the stdlib ``email``);
* the bare zip, with ``rsmf_manifest.json`` inside (at any depth; the shallowest wins);
* the manifest JSON itself.

Decisions worth knowing:

* Platform: the conversation's own ``platform`` (``slack``, ``teams``...),
  lower-cased, so ``platform:slack`` finds Slack messages delivered as RSMF;
  ``rsmf`` when the conversation names none. The source's format is ``rsmf``.
* Events are yielded in file order (RSMF events are unordered; the ingest
  sorts by time). ``id`` is the native id as written (free text, spaces and
  all); an event without one gets ``event N`` as its location-derived id.
* ``type`` ``message`` is a message; every other type (join, leave,
  disclaimer, history, call, unknown...) is kept with ``system=True``. An
  event without a body gets a readable one ("whitney.payne joined").
* ``parent`` is the thread root. ``deleted`` sets the flag; the body is kept.
* Edits: prior bodies in ``custom`` fields ``Edit1..EditN`` become versions,
  oldest first by number (Edit2 after Edit1, Edit10 after Edit9); a version
  identical to the next one (or to the body) adds nothing and is dropped.
  ``edits[]`` (or any EditN) sets ``edited``.
* Attachments: ``display`` (or ``id``), ``size``, and a SHA-256 when the file
  is present in the zip under its ``id``. Reactions: ``value`` with its
  ``participant``/``participants``. ``direction`` and ``importance`` go to extra.
* Sizes: a manifest over 512 MiB (uncompressed) is refused with a problem.
* Our own productions (``discovery produce``) read back as produced: the
  custom field ``Edited: true`` sets ``edited`` (an edit whose earlier text the
  source never had), and an attachment named ``not-held-…`` is the
  production's placeholder for a file it did not hold: it is read as the
  attachment it names (``display`` without its `` (not held)`` suffix, the
  size given), never hashed as if it were that file. A withheld message reads
  as its placeholder text (``Withheld — Privileged``).
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from discovery.archive import ZIP_ERRORS, sha256_stream
from discovery.errors import ImportProblem
from discovery.families import Held, held
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.jsondoc import id_of, integer, items, looks_like_json, mapping, text_of
from discovery.importers.textio import decode_json, head_text
from discovery.importers.times import parse_iso
from discovery.model import Attachment, ConversationKind, Participant, Reaction

MANIFEST = "rsmf_manifest.json"
MAX_MANIFEST = 512 * 1024 * 1024
MAX_HASHED = 256 * 1024 * 1024
_EDIT_RE = re.compile(r"^edit\s*(\d{1,6})$", re.IGNORECASE)
NOT_HELD = "not-held-"
NOT_HELD_SUFFIX = " (not held)"
_KINDS = {
    "channel": ConversationKind.CHANNEL,
    "direct": ConversationKind.DIRECT,
    "group": ConversationKind.GROUP,
}


def _zip_manifest(names: list[str]) -> str | None:
    found = [
        n
        for n in names
        if PurePosixPath(n).name.lower() == MANIFEST and not n.startswith("__MACOSX/")
    ]
    return min(found, key=lambda n: (n.count("/"), n)) if found else None


def _is_rsmf_zip(names: list[str]) -> bool:
    """An RSMF zip: the manifest at the root, or in the one folder holding everything.

    A collection zip that merely holds an RSMF somewhere inside is not one: the
    archive handling then opens it member by member, so nothing beside the
    RSMF is dropped.
    """
    member = _zip_manifest(names)
    if member is None or member.count("/") > 1:
        return False
    folder = member[: member.rfind("/") + 1]
    return all(n.startswith(folder) or n.startswith("__MACOSX/") for n in names)


class RsmfImporter:
    """Reads RSMF: the .rsmf/.eml, the zip, or the manifest JSON."""

    name = "rsmf"

    def sniff(self, path: Path) -> bool:
        """An X-RSMF email, a zip holding rsmf_manifest.json, or a manifest JSON."""
        if not path.is_file():
            return False
        if zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as zf:
                    return _is_rsmf_zip(zf.namelist())
            except ZIP_ERRORS:
                return False
        text = (
            head_text(path, 16 * 1024)
            if path.suffix.lower() in (".rsmf", ".eml")
            else head_text(path)
        )
        if text is None:
            return False
        if looks_like_json(text):
            low = text.lower()
            return (
                '"participants"' in low
                and ('"conversations"' in low or '"events"' in low)
                and '"display"' in low
            )
        return re.search(r"^x-rsmf-version\s*:", text, re.IGNORECASE | re.MULTILINE) is not None

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        where = ctx.display_path
        try:
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    yield from _read_zip(zf, where)
                return
            raw = path.read_bytes()
        except ZIP_ERRORS as e:
            yield ImportProblem(where, f"cannot read the RSMF file ({e})")
            return
        if looks_like_json(raw[:64].decode("utf-8-sig", errors="replace")):
            yield from read_manifest_bytes(raw, where)
            return
        yield from _read_email(raw, where)


def _read_email(raw: bytes, where: str) -> Iterator[ImportItem]:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = list(msg.walk())
    except Exception as e:  # the email parser is lenient; guard against surprises anyway
        yield ImportProblem(where, f"not a readable RSMF email ({type(e).__name__})")
        return
    candidates = []
    for part in parts:
        if part.is_multipart():
            continue
        filename = (part.get_filename() or "").lower()
        ctype = part.get_content_type()
        if filename.endswith(".zip") or ctype in (
            "application/zip",
            "application/x-zip-compressed",
        ):
            candidates.append((filename != "rsmf.zip", filename, part))
    if not candidates:
        yield ImportProblem(where, "RSMF email has no rsmf.zip attachment")
        return
    candidates.sort(key=lambda c: (c[0], c[1]))
    part = candidates[0][2]
    try:
        payload = part.get_payload(decode=True)
    except Exception as e:
        yield ImportProblem(where, f"cannot decode the rsmf.zip attachment ({type(e).__name__})")
        return
    if not isinstance(payload, bytes) or not payload:
        yield ImportProblem(where, "the rsmf.zip attachment is empty")
        return
    inner = f"{where}!{candidates[0][1] or 'rsmf.zip'}"
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as zf:
            yield from _read_zip(zf, inner)
    except ZIP_ERRORS as e:
        yield ImportProblem(inner, f"cannot open the attached zip ({e})")


def _read_zip(zf: zipfile.ZipFile, where: str) -> Iterator[ImportItem]:
    names = [n for n in zf.namelist() if not n.endswith("/")]
    member = _zip_manifest(names)
    if member is None:
        yield ImportProblem(where, f"no {MANIFEST} in the zip")
        return
    info = zf.getinfo(member)
    if info.file_size > MAX_MANIFEST:
        yield ImportProblem(
            f"{where}!{member}",
            f"manifest is {info.file_size} bytes, over the {MAX_MANIFEST} byte limit; refused",
        )
        return
    try:
        raw = zf.read(member)
    except ZIP_ERRORS as e:
        yield ImportProblem(f"{where}!{member}", f"cannot read the manifest ({e})")
        return
    root = member.rpartition("/")[0]
    files = {n[len(root) + 1 :] if root else n: n for n in names if n != member}

    def hasher(att_id: str) -> tuple[str | None, Held] | None:
        """The SHA-256 of an attachment the zip holds, and where its bytes are."""
        name = files.get(att_id)
        if name is None:
            return None
        try:
            big = zf.getinfo(name).file_size > MAX_HASHED
            if big:  # not hashed here; the ingest reports it oversized
                return None if zf.filename is None else (None, Held(zf.filename, name))
            with zf.open(name) as fh:
                digest = sha256_stream(fh)[1]
            # A zip on disk is read again when extracted; one inside a mail is in memory.
            return digest, Held(zf.filename, name) if zf.filename else Held(data=zf.read(name))
        except ZIP_ERRORS:
            return None

    yield from read_manifest_bytes(raw, f"{where}!{member}", hasher)


def read_manifest_bytes(raw: bytes, where: str, hasher: Any = None) -> Iterator[ImportItem]:
    """The items of a manifest's bytes; ``hasher(attachment id)`` gives the SHA-256 of an
    attachment the source holds and where its bytes are (:class:`~discovery.families.Held`),
    or None."""
    value, problems = decode_json(raw, where)
    yield from problems
    if value is None and problems:
        return
    if not isinstance(value, Mapping):
        yield ImportProblem(where, "not an RSMF manifest (not a JSON object)")
        return
    yield from read_manifest(value, where, hasher)


def read_manifest(
    manifest: Mapping[str, Any], where: str, hasher: Any = None
) -> Iterator[ImportItem]:
    """The items of a parsed manifest (see the module doc)."""
    people: dict[str, str] = {}
    for p in items(manifest.get("participants")):
        pid = id_of(mapping(p).get("id"))
        if pid:
            people[pid] = text_of(mapping(p).get("display")).strip() or pid
    platforms: dict[str, str] = {}
    for n, c in enumerate(items(manifest.get("conversations")), start=1):
        c = mapping(c)
        cid = id_of(c.get("id"))
        if not cid:
            yield ImportProblem(where, "conversation without an id; skipped", n)
            continue
        platform = text_of(c.get("platform")).strip().lower() or "rsmf"
        platforms[cid] = platform
        members = [id_of(m) for m in items(c.get("participants")) if id_of(m)]
        kind = _KINDS.get(text_of(c.get("type")).strip().lower(), ConversationKind.CHANNEL)
        yield RawConversation(
            platform=platform,
            key=cid,
            name=text_of(c.get("display")).strip() or cid,
            kind=kind,
            participants=tuple(Participant(m, people.get(m, m)) for m in members),
        )
    events = manifest.get("events")
    if not isinstance(events, list):
        yield ImportProblem(where, "RSMF manifest has no events list")
        return
    for n, e in enumerate(events, start=1):
        if not isinstance(e, Mapping):
            yield ImportProblem(where, "event is not an object; skipped", n)
            continue
        conv = id_of(e.get("conversation"))
        if not conv:
            yield ImportProblem(where, "event names no conversation; skipped", n)
            continue
        if conv not in platforms:
            platforms[conv] = "rsmf"
            yield RawConversation(platform="rsmf", key=conv, name=conv)
        if parse_iso(e.get("timestamp")) is None and e.get("timestamp") not in (None, ""):
            yield ImportProblem(where, "event has an unreadable timestamp; kept undated", n)
        yield _event(e, n, platforms[conv], people, where, hasher)


def _event(
    e: Mapping[str, Any],
    n: int,
    platform: str,
    people: Mapping[str, str],
    where: str,
    hasher: Any,
) -> ImportItem:
    sent = parse_iso(e.get("timestamp"))  # None: undated (a production may withhold the time)
    etype = text_of(e.get("type")).strip().lower() or "message"
    pid = id_of(e.get("participant"))
    speaker = people.get(pid, pid)
    body = text_of(e.get("body"))
    if not body and etype != "message":
        verb = {"join": "joined", "leave": "left"}.get(etype, etype)
        body = f"{speaker or 'someone'} {verb}"
    edits: dict[int, str] = {}
    extra: dict[str, str] = {}
    marked_edited = False
    for c in items(e.get("custom")):
        name, value = text_of(mapping(c).get("name")).strip(), mapping(c).get("value")
        m = _EDIT_RE.match(name)
        if m and isinstance(value, str):
            edits[int(m.group(1))] = value
        elif name.lower() == "edited" and str(value).strip().lower() == "true":
            marked_edited = True
        elif name:
            extra[f"custom:{name}"] = value if isinstance(value, str) else str(value)
    chain = [edits[k] for k in sorted(edits)] + [body]
    versions = tuple(v for i, v in enumerate(chain[:-1]) if v != chain[i + 1])
    for key in ("direction", "importance"):
        if text_of(e.get(key)).strip():
            extra[key] = text_of(e.get(key)).strip()
    extra["type"] = etype
    native = id_of(e.get("id"))
    parent = id_of(e.get("parent"))
    return RawMessage(
        platform=platform,
        conversation_key=id_of(e.get("conversation")),
        native_id=native,
        speaker_id=pid,
        speaker=speaker,  # none: the ingest stores "(unknown sender)", flagged
        sent_at=sent,
        text=body,
        thread_key=parent if parent and parent != native else None,
        location=f"event {n}",
        versions=versions,
        edited=bool(items(e.get("edits"))) or bool(edits) or marked_edited,
        deleted=e.get("deleted") is True,
        system=etype != "message",
        reactions=_reactions(e.get("reactions"), people),
        attachments=_attachments(e.get("attachments"), hasher),
        extra=extra,
    )


def _attachments(value: Any, hasher: Any) -> tuple[Attachment, ...]:
    out = []
    for a in items(value):
        a = mapping(a)
        aid = id_of(a.get("id"))
        name = text_of(a.get("display")).strip() or aid or "(attachment)"
        size = integer(a.get("size"))
        if aid.startswith(NOT_HELD):  # a production's placeholder, not the file itself
            out.append(Attachment(name=name.removesuffix(NOT_HELD_SUFFIX), size=size))
            continue
        found = hasher(aid) if hasher and aid else None
        if found is None:
            out.append(Attachment(name=name, size=size))
        else:
            out.append(held(name, found[1], size, found[0]))
    return tuple(out)


def _reactions(value: Any, people: Mapping[str, str]) -> tuple[Reaction, ...]:
    out = []
    for r in items(value):
        r = mapping(r)
        emoji = text_of(r.get("value")).strip()
        if not emoji:
            continue
        who = [id_of(p) for p in items(r.get("participants")) if id_of(p)]
        if id_of(r.get("participant")):
            who.append(id_of(r.get("participant")))
        out.append(Reaction(emoji, tuple(people.get(p, p) for p in who)))
    return tuple(out)
