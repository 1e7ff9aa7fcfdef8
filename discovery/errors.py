"""Our exception classes and the exit statuses they map to.

Every message is written for a paralegal: one line saying what went wrong and,
where it helps, what to do. The CLI prints ``str(error)`` and exits with
``error.exit_status``; nothing else turns exceptions into output.
"""

from __future__ import annotations

import unicodedata
from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit statuses (PRODUCT.md §2)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


class DiscoveryError(Exception):
    """Base class: a problem we report in one or two lines."""

    exit_status: ExitStatus = ExitStatus.ERROR


class UsageError(DiscoveryError):
    """The command was called wrongly (bad option value, unknown matter name form)."""

    exit_status = ExitStatus.USAGE


class QuerySyntaxError(UsageError):
    """A query that cannot be parsed; carries the query and the column of the problem."""

    def __init__(self, message: str, query: str, column: int, length: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.query = query
        self.column = max(0, min(column, len(query)))
        self.length = max(1, length)

    def caret_lines(self) -> str:
        """The query on one line and carets under the problem.

        Control characters (tab, newline) show as one space each, and the caret
        is indented by terminal cells, so it stays under the problem after wide
        (CJK) or combining characters.
        """
        shown = "".join(" " if unicodedata.category(c) == "Cc" else c for c in self.query)
        pad = _cells(shown[: self.column])
        width = max(1, _cells(shown[self.column : self.column + self.length]))
        return f"{shown}\n{' ' * pad}{'^' * width}"

    def __str__(self) -> str:
        return f"query error at column {self.column + 1}: {self.message}\n{self.caret_lines()}"


def _cells(text: str) -> int:
    """Terminal columns ``text`` takes."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


class WildcardTooBroadError(QuerySyntaxError):
    """A wildcard that expands to more words than we allow."""


class MatterNotFoundError(DiscoveryError):
    """The named matter does not exist under $DISCOVERY_HOME."""


class MessageNotFoundError(DiscoveryError):
    """No message with that control number."""


class ImportProblem(DiscoveryError):
    """A source (or part of one) could not be read; reported, the ingest goes on.

    Attributes:
        path: the file (or ``archive.zip!member``) at fault.
        line: the line or entry number where there is one.
    """

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:  # pickled from a worker process (ingest)
        return type(self), (self.path, self.reason, self.line)


class UnknownFormatError(ImportProblem):
    """No importer recognises the file."""


class IndexBusyError(DiscoveryError):
    """Another process is writing the matter's index (an ingest is running)."""


class StoreError(DiscoveryError):
    """The case store is unreadable or from an incompatible version."""


class StoreBusyError(StoreError):
    """The case store stayed locked by another process longer than the busy timeout."""


class DuplicateKeyError(DiscoveryError):
    """Storing a source would have held a message twice (its dedup key is stored): the
    source fails and is rolled back (never a message silently repeated)."""


class MatterBusyError(DiscoveryError):
    """Another ingest is writing the matter; this one was asked not to wait."""


class DiskFullError(DiscoveryError):
    """No space left where the case store, the index or an output file is written.

    Attributes:
        path: the file or folder that could not be written.
        needed: about how many more bytes the operation needs (0 when unknown).
        free: bytes free on that disk when the error was seen (None when unknown).
    """

    def __init__(self, path: str, needed: int = 0, free: int | None = None) -> None:
        self.path = path
        self.needed = needed
        self.free = free
        space = [f"about {_mb(needed)} needed"] if needed else []
        if free is not None:
            space.append(f"{_mb(free)} free")
        detail = f" ({', '.join(space)})" if space else ""
        super().__init__(
            f"no space left on the disk holding {path}{detail}; nothing half-written was"
            " kept: free some space and run it again"
        )

    def __reduce__(self) -> tuple[object, ...]:  # raised in a worker process (ingest)
        return type(self), (self.path, self.needed, self.free)


def _mb(n: int) -> str:
    return f"{max(n, 0) / 1024**2:,.1f} MB"
