"""Slack workspace export (the folder, or the zip Slack hands out).

Layout of an export (PRODUCT.md §5)::

    users.json  channels.json  groups.json  dms.json  mpims.json  integration_logs.json
    general/2023-01-05.json  general/2023-01-06.json  ...     (public channels, by NAME)
    secret-project/2023-01-05.json                            (private, groups.json, by NAME)
    D04ABCDEF/2023-01-05.json                                 (direct messages, dms.json, by ID)
    mpdm-ann--bob--cy-1/2023-01-05.json                       (group DMs, mpims.json, by NAME)

Decisions worth knowing:

* Conversation key = the channel id from the metadata files; a folder that no
  metadata file lists keeps its folder name as key and name.
* Kinds: public and private channels are ``channel`` (a private channel is still
  a channel), direct messages ``direct``, group DMs (mpims) ``group``. DMs and
  group DMs are named after their members' display names.
* ``native_id`` is the message ``ts`` (unique within a channel); ``sent_at`` is
  parsed from the ``ts`` string itself (never through a float), UTC, with the
  microseconds exact. ``thread_key`` is ``thread_ts`` when it differs from
  ``ts``; the root of a thread has ``thread_key=None``. Replies are found
  wherever they are filed (often under a later day).
* Text is rendered to what a reader saw: ``<@U1>`` -> ``@Display Name``,
  ``<#C1|general>`` -> ``#general``, ``<url|label>`` -> ``label``,
  ``<url>`` -> ``url``, ``<!here>`` -> ``@here``, then ``&amp; &lt; &gt;``.
  A message whose text is empty but which carries legacy ``attachments``
  (integration posts such as GitHub commits) gets their pretext/title/text
  as its text, so the content is searchable.
* ``tombstone`` (a deleted thread root) and ``message_deleted`` are kept with
  ``deleted=True``; join/leave/topic/purpose/rename/archive/pin/bot-add and the
  like are kept with ``system=True``. ``message_changed`` and
  ``previous_message`` shapes give prior versions; an ``edited`` key alone
  only sets ``edited`` (exports carry no prior text).
* A day file that is not valid JSON is one ImportProblem (with the JSON line);
  an entry that is not an object is one ImportProblem whose ``line`` is the
  1-based entry number. An entry whose ``ts`` is missing or unreadable is kept
  undated (``sent_at=None``) with one such ImportProblem; an unreadable ``ts``
  stays its ``native_id``, a missing one leaves it to the location (``member
  entry N``). The import goes on in every case.
* Zips are read member by member in memory; nothing is extracted.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from discovery.archive import ZIP_ERRORS
from discovery.errors import ImportProblem
from discovery.importers.base import ImportContext, ImportItem, RawConversation, RawMessage
from discovery.importers.textio import decode_json
from discovery.importers.times import EPOCH
from discovery.model import Attachment, ConversationKind, Participant, Reaction

PLATFORM = "slack"
METADATA_FILES = ("channels.json", "groups.json", "dms.json", "mpims.json", "users.json")
"""Any of these at the root of a folder or zip marks a Slack export."""

DAY_FILE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
TS_RE = re.compile(r"^\s*(\d{1,12})(?:\.(\d{1,9}))?\s*$")
TOKEN_RE = re.compile(r"<([^<>\s][^<>\n]*)>")

SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "channel_posting_permissions",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "bot_add",
        "bot_remove",
        "bot_enable",
        "bot_disable",
        "app_conversation_join",
        "reminder_add",
        "reminder_delete",
        "sh_room_created",
        "sh_room_shared",
        "huddle_thread",
        "joiner_notification",
    }
)
DELETED_SUBTYPES = frozenset({"tombstone", "message_deleted"})

_KINDS: dict[str, ConversationKind] = {
    "channels.json": ConversationKind.CHANNEL,
    "groups.json": ConversationKind.CHANNEL,
    "dms.json": ConversationKind.DIRECT,
    "mpims.json": ConversationKind.GROUP,
}


class _Tree:
    """The members of an export, folder or zip, addressed by POSIX paths from its root."""

    def __init__(self, path: Path, display: str, listed: _Tree | None = None) -> None:
        self.path = path
        self.display = display
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        self.members: list[str] = []
        if listed is not None:  # the same export listed already: a handle of its own
            self._prefix, self.members = listed._prefix, listed.members
            if listed._zip is not None:
                self._zip = zipfile.ZipFile(path)
        elif path.is_dir():
            self.members = sorted(
                p.relative_to(path).as_posix() for p in path.rglob("*.json") if p.is_file()
            )
        else:
            self._zip = zipfile.ZipFile(path)
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
            self._prefix = _zip_root(names)
            self.members = sorted(
                n[len(self._prefix) :]
                for n in names
                if n.startswith(self._prefix) and n.lower().endswith(".json")
            )

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def where(self, member: str) -> str:
        """The path to show for a member in problems."""
        if self._zip is not None:
            return f"{self.display}!{self._prefix}{member}"
        return f"{self.display.rstrip('/')}/{member}"

    def read(self, member: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self._prefix + member)
        return (self.path / member).read_bytes()

    def size(self, member: str) -> int:
        """Bytes of a member (0 when it cannot be told: reading it will say why)."""
        try:
            if self._zip is not None:
                return self._zip.getinfo(self._prefix + member).file_size
            return (self.path / member).stat().st_size
        except (KeyError, OSError):
            return 0


def _zip_root(names: list[str]) -> str:
    """The folder inside a zip that holds the export ('' when it is the zip root)."""
    best: str | None = None
    for name in names:
        p = PurePosixPath(name)
        if p.name in METADATA_FILES and not name.startswith("__MACOSX/"):
            parent = "" if str(p.parent) == "." else f"{p.parent}/"
            if best is None or parent.count("/") < best.count("/"):
                best = parent
    return best or ""


def _has_metadata(names: list[str]) -> bool:
    return any(
        PurePosixPath(n).name in METADATA_FILES and n.count("/") <= 1 and "__MACOSX" not in n
        for n in names
    )


class _Load:
    """Result of reading one JSON member: the value (None: unreadable) and the problems met."""

    __slots__ = ("problems", "value")

    def __init__(self, value: Any = None, problems: list[ImportProblem] | None = None) -> None:
        self.value = value
        self.problems = problems or []

    @property
    def failed(self) -> bool:
        """True when the member could not be read or parsed at all."""
        return self.value is None and bool(self.problems)


def _load(tree: _Tree, member: str) -> _Load:
    where = tree.where(member)
    try:
        raw = tree.read(member)
    except ZIP_ERRORS as e:
        return _Load(problems=[ImportProblem(where, f"cannot read the file ({e})")])
    value, problems = decode_json(raw, where)
    return _Load(value, problems)


def parse_ts(ts: str) -> datetime | None:
    """A Slack ``ts`` ("1452837318.000002") as a UTC datetime, microseconds exact.

    Returns None when the string is not a Slack timestamp (or out of range).
    """
    m = TS_RE.match(ts)
    if not m:
        return None
    micros = int((m.group(2) or "")[:6].ljust(6, "0"))  # digits past the sixth dropped
    try:
        return EPOCH + timedelta(seconds=int(m.group(1)), microseconds=micros)
    except OverflowError:
        return None


def user_display_name(user: Mapping[str, Any]) -> str:
    """The name Slack showed for a users.json entry.

    ``profile.display_name`` if non-empty, then ``profile.real_name``, then
    ``real_name``, then ``name``; for bots ``bot_profile.name`` is tried too.
    """
    profile = user.get("profile")
    candidates: list[Any] = []
    if isinstance(profile, dict):
        candidates += [profile.get("display_name"), profile.get("real_name")]
    candidates += [user.get("real_name"), user.get("name")]
    bot = user.get("bot_profile")
    if isinstance(bot, dict):
        candidates.append(bot.get("name"))
    for c in candidates:
        if isinstance(c, str) and c.strip():
            return c.strip()
    return str(user.get("id", ""))


@dataclass(frozen=True, slots=True)
class _Channel:
    key: str
    name: str
    kind: ConversationKind
    members: tuple[str, ...]


class SlackImporter:
    """Reads a Slack workspace export, folder or zip."""

    name = "slack"

    def sniff(self, path: Path) -> bool:
        """True for a folder or zip with users.json/channels.json/... at its root."""
        try:
            if path.is_dir():
                return any((path / f).is_file() for f in METADATA_FILES)
            if path.is_file() and zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    return _has_metadata(zf.namelist())
        except ZIP_ERRORS:
            return False
        return False

    def read(self, path: Path, ctx: ImportContext) -> Iterator[ImportItem]:
        try:
            tree = _Tree(path, ctx.display_path)
        except ZIP_ERRORS as e:
            yield ImportProblem(ctx.display_path, f"cannot open the Slack export ({e})")
            return
        try:
            plan = _Plan(tree)
            yield from plan.problems
            for folder in sorted(plan.folders):
                yield from _read_days(tree, plan, folder, sorted(plan.folders[folder]), True)
        finally:
            tree.close()

    def parts(self, path: Path, ctx: ImportContext, size: int) -> list[_Part] | None:
        """The day files in reading order, in parts of about ``size`` bytes (None: read whole)."""
        try:
            tree, plan = _opened(path, ctx)
            parts: list[_Part] = []
            days: list[tuple[str, tuple[str, ...], bool]] = []
            held = 0
            for folder in sorted(plan.folders):
                names = sorted(plan.folders[folder])
                first = 0
                for i, day in enumerate(names):
                    held += tree.size(f"{folder}/{day}")
                    if held >= size:
                        days.append((folder, tuple(names[first : i + 1]), first == 0))
                        parts.append(_Part(not parts, tuple(days)))
                        days, held, first = [], 0, i + 1
                if first < len(names):
                    days.append((folder, tuple(names[first:]), first == 0))
            if days or not parts:
                parts.append(_Part(not parts, tuple(days)))
            return parts
        except ZIP_ERRORS:
            return None  # read() reports it

    def read_part(self, path: Path, ctx: ImportContext, part: _Part) -> Iterator[ImportItem]:
        """What :meth:`read` yields for one part of :meth:`parts` (in order, all of it)."""
        tree, plan = _opened(path, ctx)
        if part.head:
            yield from plan.problems
        for folder, days, starts in part.days:
            yield from _read_days(tree, plan, folder, list(days), starts)


@dataclass(frozen=True, slots=True)
class _Part:
    head: bool
    """The first part: it also yields the problems of the metadata files."""
    days: tuple[tuple[str, tuple[str, ...], bool], ...]
    """(folder, day files, whether they start the folder), in reading order."""


class _Plan:
    """What reading the day files needs: users, conversations, folders (and problems met)."""

    def __init__(self, tree: _Tree) -> None:
        self.problems: list[ImportProblem] = []
        users, channel_names, self.by_folder = self._metadata(tree)
        self.render = _Render(users, channel_names)
        self.folders: dict[str, list[str]] = {}
        for m in tree.members:
            parts = m.split("/")
            # __MACOSX/ and ._* are resource forks macOS adds when zipping, not export content
            if (
                len(parts) == 2
                and not parts[0].startswith(("__MACOSX", "."))
                and not parts[1].startswith("._")
            ):
                self.folders.setdefault(parts[0], []).append(parts[1])

    def _metadata(self, tree: _Tree) -> tuple[dict[str, str], dict[str, str], dict[str, _Channel]]:
        members = set(tree.members)
        users: dict[str, str] = {"USLACKBOT": "Slackbot"}
        if "users.json" in members:
            loaded = _load(tree, "users.json")
            self.problems.extend(loaded.problems)
            if loaded.failed:
                pass
            elif isinstance(loaded.value, list):
                for u in loaded.value:
                    if isinstance(u, dict) and isinstance(u.get("id"), str):
                        users[u["id"]] = user_display_name(u)
                        profile = u.get("profile")
                        if isinstance(profile, dict) and _str(profile.get("bot_id")):
                            users.setdefault(profile["bot_id"], users[u["id"]])
            else:
                self.problems.append(ImportProblem(tree.where("users.json"), "not a list of users"))

        by_folder: dict[str, _Channel] = {}
        channel_names: dict[str, str] = {}
        for meta, kind in _KINDS.items():
            if meta not in members:
                continue
            loaded = _load(tree, meta)
            self.problems.extend(loaded.problems)
            if loaded.failed:
                continue
            if not isinstance(loaded.value, list):
                self.problems.append(ImportProblem(tree.where(meta), "not a list of conversations"))
                continue
            for ch in loaded.value:
                if not isinstance(ch, dict) or not isinstance(ch.get("id"), str):
                    continue
                cid: str = ch["id"]
                raw_members = ch.get("members")
                member_ids = tuple(
                    m
                    for m in (raw_members if isinstance(raw_members, list) else [])
                    if isinstance(m, str)
                )
                if (
                    kind is ConversationKind.DIRECT
                    and not member_ids
                    and isinstance(ch.get("user"), str)
                ):
                    member_ids = (ch["user"],)
                slack_name = ch.get("name") if isinstance(ch.get("name"), str) else ""
                if kind in (ConversationKind.DIRECT, ConversationKind.GROUP):
                    shown = ", ".join(users.get(m, m) for m in member_ids) or slack_name or cid
                    folder = cid if kind is ConversationKind.DIRECT else (slack_name or cid)
                else:
                    shown = slack_name or cid
                    folder = slack_name or cid
                channel_names[cid] = shown
                info = _Channel(cid, shown, kind, member_ids)
                by_folder.setdefault(folder, info)
                by_folder.setdefault(cid, info)  # some tools name every folder by id
        return users, channel_names, by_folder


@dataclass(frozen=True, slots=True)
class _Opened:
    pid: int
    tree: _Tree
    plan: _Plan


_OPENED: dict[tuple[str, str, str], _Opened] = {}


def _opened(path: Path, ctx: ImportContext) -> tuple[_Tree, _Plan]:
    """The export's members and plan, read once per process for all its parts, and a
    handle of this process's own to read them (a forked worker opens the zip again
    rather than share a file position with its parent)."""
    key = (str(path), ctx.display_path, ctx.sha256)
    found = _OPENED.get(key)
    if found is None:
        for old in _OPENED.values():
            if old.pid == os.getpid():
                old.tree.close()
        _OPENED.clear()  # one export at a time
        tree = _Tree(path, ctx.display_path)
        found = _OPENED[key] = _Opened(os.getpid(), tree, _Plan(tree))
    elif found.pid != os.getpid():
        tree = _Tree(path, ctx.display_path, listed=found.tree)
        found = _OPENED[key] = _Opened(os.getpid(), tree, found.plan)
    return found.tree, found.plan


def _read_days(
    tree: _Tree, plan: _Plan, folder: str, days: list[str], starts: bool
) -> Iterator[ImportItem]:
    """A folder's day files (from its first one when ``starts``: then the conversation too)."""
    info = plan.by_folder.get(folder) or _Channel(folder, folder, ConversationKind.CHANNEL, ())
    if starts:
        users = plan.render.users
        yield RawConversation(
            platform=PLATFORM,
            key=info.key,
            name=info.name,
            kind=info.kind,
            participants=tuple(Participant(u, users.get(u, u)) for u in info.members),
        )
    for day in days:
        member = f"{folder}/{day}"
        if not DAY_FILE_RE.match(day):
            yield ImportProblem(
                tree.where(member), "not a Slack day file (YYYY-MM-DD.json); skipped"
            )
            continue
        loaded = _load(tree, member)
        yield from loaded.problems
        if loaded.failed:
            continue
        if not isinstance(loaded.value, list):
            yield ImportProblem(tree.where(member), "not a list of messages")
            continue
        for i, entry in enumerate(loaded.value, start=1):
            yield from _message(entry, i, info.key, member, tree, plan.render)


class _Render:
    """Turns Slack markup into the text a reader saw."""

    def __init__(self, users: dict[str, str], channels: dict[str, str]) -> None:
        self.users = users
        self.channels = channels

    def __call__(self, text: str) -> str:
        if "<" in text:
            text = TOKEN_RE.sub(self._token, text)
        if "&" in text:
            text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return text

    def _token(self, m: re.Match[str]) -> str:
        body = m.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            if uid in self.users:
                return f"@{self.users[uid]}"
            return f"@{label.lstrip('@')}" if label else f"@{uid}"
        if target.startswith("#"):
            cid = target[1:]
            if label:
                return f"#{label.lstrip('#')}"
            return f"#{self.channels.get(cid, cid)}"
        if target.startswith("!"):
            special = target[1:]
            if special in ("here", "channel", "everyone", "group"):
                return f"@{special}"
            if label:
                return label
            if special.startswith("subteam^"):
                return f"@{special.partition('^')[2]}"
            return f"@{special}"
        if label:
            return label
        return target.removeprefix("mailto:")


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _message(
    entry: Any, index: int, conv_key: str, member: str, tree: _Tree, render: _Render
) -> Iterator[ImportItem]:
    """One entry of a day file: its message, and a problem when it cannot be read whole."""
    where = tree.where(member)
    if not isinstance(entry, dict):
        yield ImportProblem(where, f"entry {index} is not a message object; skipped", index)
        return
    subtype = _str(entry.get("subtype"))
    msg: Mapping[str, Any] = entry
    versions: list[str] = []
    deleted = subtype in DELETED_SUBTYPES
    if subtype == "message_changed" and isinstance(entry.get("message"), dict):
        msg = entry["message"]
        prev = entry.get("previous_message")
        if isinstance(prev, dict) and isinstance(prev.get("text"), str):
            versions.append(render(prev["text"]))
    elif subtype == "message_deleted" and isinstance(entry.get("previous_message"), dict):
        msg = {**entry["previous_message"], "ts": entry.get("deleted_ts") or entry.get("ts")}
    else:
        prev = entry.get("previous_message", entry.get("previous"))
        if isinstance(prev, dict) and isinstance(prev.get("text"), str):
            versions.append(render(prev["text"]))
        elif isinstance(prev, str):
            versions.append(render(prev))
        elif isinstance(prev, list):
            for p in prev:
                if isinstance(p, str):
                    versions.append(render(p))
                elif isinstance(p, dict) and isinstance(p.get("text"), str):
                    versions.append(render(p["text"]))

    ts = msg.get("ts")
    sent_at = None
    if not isinstance(ts, str | int | float) or isinstance(ts, bool) or not str(ts):
        # Kept, never dropped: undated, its id derived from its place in the export.
        yield ImportProblem(where, f"entry {index} has no ts (message time); kept undated", index)
        ts = ""
    else:
        ts = str(ts)
        sent_at = parse_ts(ts)
        if sent_at is None:
            yield ImportProblem(
                where, f"entry {index} has an unreadable ts {ts[:40]!r}; kept undated", index
            )

    thread_ts = msg.get("thread_ts")
    thread_key = None
    if isinstance(thread_ts, str | int | float) and not isinstance(thread_ts, bool):
        thread_ts = str(thread_ts)
        if thread_ts != ts:
            thread_key = thread_ts

    inner_subtype = _str(msg.get("subtype")) or subtype
    speaker_id, speaker = _speaker(msg, inner_subtype, render.users)

    text = render(_str(msg.get("text")))
    if not text.strip():
        text = _legacy_attachment_text(msg.get("attachments"), render) or text
    comment = msg.get("comment")
    if not text and isinstance(comment, dict) and isinstance(comment.get("comment"), str):
        text = render(comment["comment"])

    edited = isinstance(msg.get("edited"), dict) or bool(versions)
    yield RawMessage(
        platform=PLATFORM,
        conversation_key=conv_key,
        native_id=ts,
        speaker_id=speaker_id,
        speaker=speaker,
        sent_at=sent_at,
        text=text,
        thread_key=thread_key,
        location=f"{member} entry {index}",
        versions=tuple(versions),
        edited=edited,
        deleted=deleted,
        system=inner_subtype in SYSTEM_SUBTYPES,
        reactions=_reactions(msg.get("reactions")),
        attachments=_files(msg),
        extra={"subtype": inner_subtype} if inner_subtype else {},
    )


def _speaker(msg: Mapping[str, Any], subtype: str, users: dict[str, str]) -> tuple[str, str]:
    user = _str(msg.get("user"))
    bot_id = _str(msg.get("bot_id"))
    comment = msg.get("comment")
    if not user and isinstance(comment, dict):
        user = _str(comment.get("user"))
    bot_profile = msg.get("bot_profile")
    bot_name = _str(bot_profile.get("name")) if isinstance(bot_profile, dict) else ""
    if subtype == "bot_message" or (not user and bot_id):
        sid = bot_id or user
        name = bot_name or _str(msg.get("username")) or users.get(sid) or users.get(user) or sid
        return sid, name
    profile = msg.get("user_profile")
    if user in users:
        return user, users[user]
    if isinstance(profile, dict):
        for key in ("display_name", "real_name", "name"):
            if _str(profile.get(key)).strip():
                return user, _str(profile.get(key)).strip()
    return user, _str(msg.get("username")) or bot_name or user


def _legacy_attachment_text(attachments: Any, render: _Render) -> str:
    if not isinstance(attachments, list):
        return ""
    parts: list[str] = []
    for a in attachments:
        if not isinstance(a, dict):
            continue
        own = [_str(a.get(k)) for k in ("pretext", "title", "text") if _str(a.get(k)).strip()]
        if not own and _str(a.get("fallback")).strip():
            own = [_str(a.get("fallback"))]
        parts.extend(render(p) for p in own)
    return "\n".join(parts)


def _reactions(raw: Any) -> tuple[Reaction, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for r in raw:
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            users = r.get("users")
            out.append(
                Reaction(
                    r["name"],
                    tuple(u for u in users if isinstance(u, str))
                    if isinstance(users, list)
                    else (),
                )
            )
    return tuple(out)


def _files(msg: Mapping[str, Any]) -> tuple[Attachment, ...]:
    raw = msg.get("files")
    files = list(raw) if isinstance(raw, list) else []
    if isinstance(msg.get("file"), dict):
        files.append(msg["file"])
    out = []
    for f in files:
        if not isinstance(f, dict):
            continue
        name = _str(f.get("name")) or _str(f.get("title")) or _str(f.get("id")) or "(file)"
        size = f.get("size")
        url = _str(f.get("url_private")) or _str(f.get("permalink")) or None
        out.append(
            Attachment(
                name=name,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                url=url,
            )
        )
    return tuple(out)
