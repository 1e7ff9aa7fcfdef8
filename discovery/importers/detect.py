"""Which importer reads a path, and which importable units a list of paths holds.

:data:`IMPORTERS` is the registry, in sniffing order: specific formats first,
the loose text sniffers last. Adding a format is one line in
:data:`_ORDER` (an instance of a class with ``name``, ``sniff`` and ``read``).

A unit is what one importer reads in one go: a Slack export (folder or zip)
is ONE unit, however many files it holds; any other folder is walked and each
file in it is a unit of its own. Files that no importer recognises are
returned with ``importer=None`` so that the caller can report them; a file
that cannot be opened comes with the problem ``cannot read: <reason>``, and
an unclaimed ``.json``/``.jsonl`` that is not valid JSON with ``not valid
JSON at line N``. Operating
system litter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``, ``__MACOSX``)
is skipped while walking a folder (never when named explicitly).

Nothing outside what was named is imported: a symbolic link inside a named
folder is never followed (reported: ``symbolic link to a file outside the
collection: not imported``, or, for a link to something inside it, that it
is imported in its own place), and pipes, devices and sockets are never
opened (reading a FIFO would wait forever). When a named folder holds any of
these, the importers are given a private copy of its tree in the workspace
(links to its regular files only), so a format that reads a whole folder
cannot follow them either. A path named on the command line is the user's
choice and is followed.

Zips are sniffed by content, not by name. A zip is offered whole to the
importers first (a Slack export zip, a WhatsApp chat zip, an RSMF zip); one
that no importer claims is a collection: it is extracted into the caller's
temporary folder (:mod:`discovery.archive`: limits, safe names) and its
members are units of their own, shown as ``outer.zip!inner/path.json``;
zips inside it are treated the same way.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from discovery.archive import (
    MAX_DEPTH,
    MAX_TOTAL_BYTES,
    ArchiveError,
    damage,
    extract,
    is_archive,
    refusal,
)
from discovery.errors import ImportProblem
from discovery.importers.base import Importer
from discovery.importers.discord import DiscordImporter
from discovery.importers.google_chat import GoogleChatImporter
from discovery.importers.html_exhibit import HtmlExhibitImporter
from discovery.importers.mail import MailImporter
from discovery.importers.mattermost import MattermostImporter
from discovery.importers.meta import MetaImporter
from discovery.importers.pdf import PdfImporter
from discovery.importers.rsmf import RsmfImporter
from discovery.importers.slack import SlackImporter
from discovery.importers.tabular import CsvImporter, JsonlImporter
from discovery.importers.teams import TeamsImporter
from discovery.importers.telegram import TelegramImporter
from discovery.importers.transcript import TranscriptImporter
from discovery.importers.whatsapp import WhatsAppImporter

_ORDER: tuple[Importer, ...] = (
    SlackImporter(),
    RsmfImporter(),  # before email: an .rsmf/.eml with X-RSMF headers and rsmf.zip
    TeamsImporter(),
    DiscordImporter(),
    GoogleChatImporter(),
    MattermostImporter(),  # before jsonl: its first line is {"type": "version"}
    WhatsAppImporter(),  # before transcript: first line "[date, time] Name:" / "date, time - "
    MetaImporter(),  # Messenger/Instagram/Workplace: thread folders, message_N.json/.html
    TelegramImporter(),  # before the HTML exhibit fallback: messagesN.html
    MailImporter(),  # .eml and mbox; after RSMF (an .eml carrying rsmf.zip)
    # Specific formats (Teams, RSMF, WhatsApp, ...) go here, one line each.
    PdfImporter(),  # %PDF- in the first kilobyte
    CsvImporter(),
    JsonlImporter(),
    HtmlExhibitImporter(),  # fallback for any HTML: after every format with its own HTML
    TranscriptImporter(),  # loosest: any text with two "Name (date time): ..." lines
)

IMPORTERS: dict[str, Importer] = {imp.name: imp for imp in _ORDER}
"""Importer by ``--format`` name, in sniffing order."""

JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX", ".git"})


class Unit(NamedTuple):
    """One importable unit.

    Attributes:
        path: where the unit is on disk (inside the ingest's temporary folder
            for a member of an archive).
        importer: the importer for it (None: unrecognised, or ``problem`` says why).
        display: the path shown and recorded for it: the user's spelling, or
            ``outer.zip!inner/path.json`` for a member of an archive ('' means
            ``str(path)``).
        problem: why the unit cannot be read at all (an archive refused or
            damaged, an unsafe member name); None otherwise.
        named: the path the user named that this unit was found under (its
            display spelling), for custodian mapping ('' means ``display``).
    """

    path: Path
    importer: Importer | None
    display: str = ""
    problem: ImportProblem | None = None
    named: str = ""

    @property
    def shown(self) -> str:
        """The display path (``display``, or the path itself)."""
        return self.display or str(self.path)

    @property
    def relative(self) -> str:
        """The unit's path below the named path, ``/``-separated (``!`` counts as ``/``)."""
        shown, named = self.shown, self.named or self.shown
        rest = shown[len(named) :] if shown.startswith(named) else shown
        return "/".join(p for p in rest.replace("!", "/").replace("\\", "/").split("/") if p)


def _unit(
    path: Path,
    importer: Importer | None,
    display: str,
    problem: ImportProblem | None = None,
    named: str = "",
) -> Unit:
    """A Unit, leaving ``display`` and ``named`` empty where they are just ``str(path)``."""
    here = str(path)
    return Unit(
        path, importer, "" if display == here else display, problem, "" if named == here else named
    )


def _sniffs(importer: Importer, path: Path) -> bool:
    """``importer.sniff(path)``, with unreadable paths counted as "no"."""
    try:
        return bool(importer.sniff(path))
    except Exception:
        # A sniff is a guess: one that trips over a damaged file (a zlib error inside
        # a zip, a parser bug) means "not mine", never a failed ingest.
        return False


def unreadable(path: Path) -> str | None:
    """``cannot read: <reason>`` when the file cannot be opened (permissions), else None."""
    try:
        with path.open("rb"):
            pass
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    return None


MAX_JSON_CHECK = 64 * 1024**2
"""Largest unclaimed ``.json`` that is parsed to say where it stops being JSON."""


def json_trouble(path: Path) -> str | None:
    """Why an unclaimed ``.json``/``.jsonl`` file is not JSON (``not valid JSON at line N``).

    None when it is valid JSON (then it is simply not a format we know), too
    large to check, or not named ``.json``/``.jsonl``.
    """
    suffix = path.suffix.lower()
    if suffix not in (".json", ".jsonl"):
        return None
    try:
        if path.stat().st_size > MAX_JSON_CHECK:
            return None
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    docs = [(1, text)] if suffix == ".json" else list(enumerate(text.splitlines(), start=1))
    for first, doc in docs:
        if suffix == ".jsonl" and not doc.strip():
            continue
        try:
            json.loads(doc)
        except json.JSONDecodeError as e:
            return f"not valid JSON at line {first + e.lineno - 1} ({e.msg})"
        except RecursionError:
            return "not valid JSON (nested too deeply)"
    return None


def detect(path: Path, candidates: Iterable[Importer] | None = None) -> Importer | None:
    """The first importer (in registry order) whose sniff recognises ``path``, or None."""
    for importer in IMPORTERS.values() if candidates is None else candidates:
        if _sniffs(importer, path):
            return importer
    return None


def iter_sources(
    paths: Iterable[Path], importer: Importer | None = None, workspace: Path | None = None
) -> Iterator[Unit]:
    """Expand files, folders and zips into importable units, in a deterministic order.

    A zip is first offered whole to the importers (a Slack export zip, a
    WhatsApp chat zip, an RSMF zip are one unit each); only when none claims
    it is it opened, and its members become units of their own (nested zips
    likewise, up to :data:`~discovery.archive.MAX_DEPTH` deep). Every zip is
    checked against the limits of :mod:`discovery.archive` first.

    Args:
        paths: what the user named, in the order given.
        importer: a forced format (``--format``); then only it is tried, and a
            file named explicitly is given to it without sniffing.
        workspace: a temporary folder the caller owns and removes, where
            archives are extracted; without one, archives no importer claims
            are not opened (they come back unrecognised).

    Yields:
        One :class:`Unit` per export folder/zip or file. A path that does not
        exist, or a file no importer recognises, comes with ``importer=None``.
    """
    walker = _Walker(None if importer is None else (importer,), workspace)
    for path in paths:
        named = str(path)
        special = None if path.is_dir() else _not_a_file(path)
        if special is not None:
            yield _unit(path, None, named, ImportProblem(named, special), named)
        elif not path.exists():
            yield _unit(path, None, named, None, named)
        elif path.is_dir():
            root = path
            unsafe = _unsafe_entries(path)
            for p, why in unsafe:
                shown = f"{named.rstrip('/')}/{p.relative_to(path).as_posix()}"
                yield _unit(p, None, shown, ImportProblem(shown, why), named)
            if unsafe and workspace is not None:
                walker.trees += 1
                root = _safe_copy(path, {p for p, _ in unsafe}, workspace / f"tree-{walker.trees}")
            found = detect(root, walker.candidates)
            if found is not None:
                yield _unit(root, found, named, None, named)
            else:
                yield from walker.walk(root, named, "/", named, 0)
        elif importer is not None:
            reason = refusal(path) if is_archive(path) else None
            problem = None if reason is None else ImportProblem(named, reason)
            yield _unit(path, None if problem else importer, named, problem, named)
        else:
            yield from walker.file(path, named, named, 0)


class _Walker:
    """Walks folders and archives; remembers how much archive content it extracted."""

    def __init__(self, candidates: tuple[Importer, ...] | None, workspace: Path | None) -> None:
        self.candidates = candidates
        self.workspace = workspace
        self.extracted = 0
        self.archives = 0
        self.trees = 0

    def file(self, path: Path, display: str, named: str, depth: int) -> Iterator[Unit]:
        """The unit(s) of one file: itself, or the members of an archive no importer claims."""
        cannot = unreadable(path)
        if cannot is not None:
            yield _unit(path, None, display, ImportProblem(display, cannot), named)
            return
        archive = is_archive(path)
        reason = refusal(path) if archive else damage(path)
        if reason is not None:
            yield _unit(path, None, display, ImportProblem(display, reason), named)
            return
        found = detect(path, self.candidates)
        if found is None and not archive:
            trouble = json_trouble(path)
            if trouble is not None:
                yield _unit(path, None, display, ImportProblem(display, trouble), named)
                return
        if found is not None or not archive or self.workspace is None:
            yield _unit(path, found, display, None, named)
            return
        yield from self.archive(path, display, named, depth + 1)

    def archive(self, path: Path, display: str, named: str, depth: int) -> Iterator[Unit]:
        assert self.workspace is not None
        if depth > MAX_DEPTH:
            reason = f"archives nested more than {MAX_DEPTH} deep; not opened"
            yield _unit(path, None, display, ImportProblem(display, reason), named)
            return
        self.archives += 1
        dest = self.workspace / f"archive-{self.archives}"
        try:
            got = extract(path, dest, MAX_TOTAL_BYTES - self.extracted)
        except ArchiveError as e:
            yield _unit(path, None, display, ImportProblem(display, str(e)), named)
            return
        self.extracted += got.size
        for member, reason in got.problems:
            where = f"{display}!{member}"
            yield _unit(path, None, where, ImportProblem(where, reason), named)
        found = detect(dest, self.candidates) if got.written else None
        if found is not None:  # the zip holds one export folder at its root
            yield _unit(dest, found, display, None, named)
            return
        yield from self.walk(dest, display, "!", named, depth)

    def walk(self, root: Path, display: str, sep: str, named: str, depth: int) -> Iterator[Unit]:
        """The units under the folder ``root``, shown as ``display + sep + relative path``."""

        def shown(p: Path) -> str:
            rel = p.relative_to(root).as_posix()
            return f"{display.rstrip('/')}/{rel}" if sep == "/" else f"{display}{sep}{rel}"

        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames.sort()
            keep = []
            folders: dict[str, Importer] = {}
            for d in dirnames:
                if d in JUNK_NAMES:
                    continue
                found = detect(here / d, self.candidates)
                if found is not None:
                    # A folder some importer reads whole (a Slack export): yield it in
                    # its sorted place among the files and do not descend into it.
                    filenames.append(d)
                    folders[d] = found
                else:
                    keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                if name in JUNK_NAMES:
                    continue
                p = here / name
                if name in folders:
                    yield _unit(p, folders[name], shown(p), None, named)
                else:
                    yield from self.file(p, shown(p), named, depth)


def _not_a_file(path: Path) -> str | None:
    """Why a named path that is not a folder cannot be read as a file (None: it can)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "broken symbolic link: not imported" if path.is_symlink() else None
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    return _special(mode)


def _special(mode: int) -> str | None:
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device file"
    else:
        kind = "a special file"
    return f"{kind}, not a file: not imported"


def _unsafe_entries(root: Path) -> list[tuple[Path, str]]:
    """Every symbolic link and special file under the folder ``root``, with the reason.

    Cheap: the kind of each entry comes with the folder listing (``scandir``);
    only links and special files cost a ``stat``.
    """
    inside = Path(os.path.realpath(root))
    found: list[tuple[Path, str]] = []
    folders = [root]
    while folders:
        try:
            with os.scandir(folders.pop()) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder is reported when it is walked
        for e in entries:
            if e.name in JUNK_NAMES:
                continue
            if e.is_symlink():
                found.append((Path(e.path), _link(Path(e.path), inside)))
            elif e.is_dir(follow_symlinks=False):
                folders.append(Path(e.path))
            elif not e.is_file(follow_symlinks=False):
                reason = _special(e.stat(follow_symlinks=False).st_mode)
                if reason is not None:
                    found.append((Path(e.path), reason))
    return sorted(found)


def _link(link: Path, inside: Path) -> str:
    target = Path(os.path.realpath(link))
    if not target.exists():
        return "broken symbolic link: not imported"
    kind = "folder" if target.is_dir() else "file"
    if target.is_relative_to(inside):
        return (
            f"symbolic link to a {kind} inside the collection: not followed (what it points"
            " to is imported in its own place)"
        )
    return f"symbolic link to a {kind} outside the collection: not imported"


def _safe_copy(root: Path, skip: set[Path], dest: Path) -> Path:
    """The tree of ``root`` under ``dest`` without ``skip``: folders, and links to its files.

    Every link points at a regular file of the collection (by absolute path), so
    an importer reading the copy reads exactly what was collected, and nothing
    it could reach through a link of the original.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        target = dest / here.relative_to(root)
        target.mkdir(parents=True, exist_ok=True)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in filenames:
            p = here / name
            if p not in skip:
                os.symlink(os.path.abspath(p), target / name)
    return dest
