"""Which importer reads a path, and which importable units a list of paths holds.

:data:`IMPORTERS` is the registry, in sniffing order: specific formats first,
the loose text sniffers last. Adding a format is one line in
:data:`_ORDER` (an instance of a class with ``name``, ``sniff`` and ``read``).

A unit is what one importer reads in one go: a Slack export (folder or zip)
is ONE unit, however many files it holds; any other folder is walked and each
file in it is a unit of its own. Files that no importer recognises are
returned with ``importer=None`` so that the caller can report them. Operating
system litter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``, ``__MACOSX``)
is skipped while walking a folder (never when named explicitly).
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from discovery.importers.base import Importer
from discovery.importers.slack import SlackImporter
from discovery.importers.tabular import CsvImporter, JsonlImporter
from discovery.importers.transcript import TranscriptImporter

_ORDER: tuple[Importer, ...] = (
    SlackImporter(),
    # Specific formats (Teams, RSMF, WhatsApp, ...) go here, one line each.
    CsvImporter(),
    JsonlImporter(),
    TranscriptImporter(),  # loosest: any text with two "Name (date time): ..." lines
)

IMPORTERS: dict[str, Importer] = {imp.name: imp for imp in _ORDER}
"""Importer by ``--format`` name, in sniffing order."""

JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX", ".git"})


class Unit(NamedTuple):
    """One importable unit: the path and the importer for it (None: unrecognised)."""

    path: Path
    importer: Importer | None


def _sniffs(importer: Importer, path: Path) -> bool:
    """``importer.sniff(path)``, with unreadable paths counted as "no"."""
    try:
        return bool(importer.sniff(path))
    except (OSError, ValueError, UnicodeError, zipfile.BadZipFile, RuntimeError, EOFError):
        return False


def detect(path: Path, candidates: Iterable[Importer] | None = None) -> Importer | None:
    """The first importer (in registry order) whose sniff recognises ``path``, or None."""
    for importer in IMPORTERS.values() if candidates is None else candidates:
        if _sniffs(importer, path):
            return importer
    return None


def iter_sources(paths: Iterable[Path], importer: Importer | None = None) -> Iterator[Unit]:
    """Expand files, folders and zips into importable units, in a deterministic order.

    Args:
        paths: what the user named, in the order given.
        importer: a forced format (``--format``); then only it is tried, and a
            file named explicitly is given to it without sniffing.

    Yields:
        One :class:`Unit` per export folder/zip or file. A path that does not
        exist, or a file no importer recognises, comes with ``importer=None``.
    """
    candidates = None if importer is None else (importer,)
    for path in paths:
        if not path.exists():
            yield Unit(path, None)
        elif path.is_dir():
            found = detect(path, candidates)
            if found is not None:
                yield Unit(path, found)
            else:
                yield from _walk(path, candidates)
        elif importer is not None:
            yield Unit(path, importer)
        else:
            yield Unit(path, detect(path))


def _walk(root: Path, candidates: tuple[Importer, ...] | None) -> Iterator[Unit]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames.sort()
        keep = []
        for d in dirnames:
            if d in JUNK_NAMES:
                continue
            found = detect(here / d, candidates)
            if found is not None:
                # A folder some importer reads whole (a Slack export): yield it in
                # its sorted place among the files and do not descend into it.
                filenames.append(d)
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if name in JUNK_NAMES:
                continue
            p = here / name
            yield Unit(p, detect(p, candidates))
