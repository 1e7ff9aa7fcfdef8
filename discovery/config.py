"""Where matters live, which matter is the default, and which zone dates are shown in.

The home (the folder holding every matter and the audit log) is found as git
finds ``.git``: ``$DISCOVERY_HOME`` if set, else the nearest ``indexes/``
folder in the current folder or one of its parents, else a per-user data
folder (``~/.local/share/discovery`` on Linux, from platformdirs). So a
command run anywhere inside a project uses the project's matters, and one run
elsewhere the reviewer's own.
"""

from __future__ import annotations

import os
import re
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from discovery.errors import DiscoveryError, UsageError

HOME_ENV = "DISCOVERY_HOME"
TZ_ENV = "DISCOVERY_TZ"
DEFAULT_MATTER = "default"
PROJECT_DIR = "indexes"
"""The folder name looked for in the current folder and its parents."""
DEFAULT_MATTER_FILE = "default-matter"
"""In the home: the matter commands use when no ``--matter`` is given (``matters --use``)."""
_MATTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def home() -> Path:
    """The folder holding all matters (see the module notes)."""
    return home_and_reason()[0]


def home_and_reason() -> tuple[Path, str]:
    """The home and how it was found, for ``discovery matters`` to say."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env), f"${HOME_ENV}"
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_DIR
        if candidate.is_dir():
            return candidate, f"the nearest {PROJECT_DIR}/ folder"
    from platformdirs import user_data_path

    return user_data_path("discovery", appauthor=False), "the per-user data folder"


def check_matter_name(name: str) -> str:
    if not _MATTER_NAME.fullmatch(name):
        raise UsageError(
            f"invalid matter name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return name


def matter_dir(name: str) -> Path:
    """The folder of one matter; the name must be a simple file name."""
    return home() / check_matter_name(name)


def default_matter() -> str:
    """The matter used when none is named: the one set by ``matters --use``, else ``default``."""
    try:
        stored = (home() / DEFAULT_MATTER_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return DEFAULT_MATTER
    return stored if _MATTER_NAME.match(stored) else DEFAULT_MATTER


def set_default_matter(name: str) -> None:
    """Remember ``name`` as the default matter of this home."""
    path = home() / DEFAULT_MATTER_FILE
    try:
        path.write_text(check_matter_name(name) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DiscoveryError(f"cannot write {path}: {exc.strerror or exc}") from None


def zone(name: str) -> tzinfo:
    """A zone by IANA name (``Europe/Berlin``) or ``UTC``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin"
        ) from exc


DISPLAY_TZ_KEY = "display_tz"
"""Where a matter keeps its own display zone (``discovery matters --display-tz``)."""


def display_zone_name(matter_zone: str | None = None) -> str:
    """The zone dates are shown and queried in: ``$DISCOVERY_TZ``, else the
    matter's own display zone, else UTC."""
    return os.environ.get(TZ_ENV) or matter_zone or "UTC"
