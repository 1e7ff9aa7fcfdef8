"""Where matters live and which zone dates are shown in."""

from __future__ import annotations

import os
import re
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from discovery.errors import UsageError

HOME_ENV = "DISCOVERY_HOME"
TZ_ENV = "DISCOVERY_TZ"
DEFAULT_MATTER = "default"
_MATTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def home() -> Path:
    """The folder holding all matters: ``$DISCOVERY_HOME`` or ``./indexes``."""
    return Path(os.environ.get(HOME_ENV) or "indexes")


def matter_dir(name: str) -> Path:
    """The folder of one matter; the name must be a simple file name."""
    if not _MATTER_NAME.fullmatch(name):
        raise UsageError(
            f"invalid matter name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return home() / name


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
