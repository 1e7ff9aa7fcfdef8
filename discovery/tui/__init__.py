"""The interactive review screen (Textual). The only package that imports textual."""

from __future__ import annotations

from discovery.tui.app import ReviewApp, run
from discovery.tui.session import Filters, Session

__all__ = ["Filters", "ReviewApp", "Session", "run"]
