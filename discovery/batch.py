"""Saved query batches: read a TERMS file into named, parsed search terms.

Two layouts (PRODUCT.md §6, issue 5):

* **text** (any extension but ``.csv``): one query per line. ``NAME: QUERY``
  (a colon followed by a space or tab) names the term; a name holds no ``"``,
  ``(``, ``)`` or ``:`` and is not a field name (``speaker: x`` is read as a
  query, and rejected by the parser, rather than as a term named *speaker*).
  Without a name, the term is named by its query as written. Lines starting
  with ``#`` (after blanks) and blank lines are ignored.
* **CSV** (``.csv``): a header row with the columns ``name`` and ``query``
  (any order, case-insensitive, further columns ignored); an empty name is
  the query as written.

Lines end at LF, CR LF or CR only (a form feed or vertical tab is not a line
break). A control character (other than tab) in a term is refused, with its
line and column: the report's XLSX cannot hold one, and a term name is
printed in the report as written.

Every line is parsed before anything runs, and every problem is collected:
:class:`BatchSyntaxError` lists each with its line and column (exit 2).
Names must be unique, since a report names its rows by them and
``--compare`` matches rows by name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from discovery.errors import QuerySyntaxError, UsageError
from discovery.export import XLSX_ILLEGAL
from discovery.query.ast import DATE_FIELDS, TEXT_FIELDS, Node
from discovery.query.parser import FIELD_ALIASES
from discovery.query.unparse import unparse
from discovery.search import parse_query

MAX_TERMS = 10_000
_NAME_RE = re.compile(r'^\s*([^":()\s][^":()]*?)\s*:[ \t]+(\S.*)$')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELDS = frozenset(TEXT_FIELDS) | frozenset(DATE_FIELDS) | frozenset(FIELD_ALIASES)


@dataclass(frozen=True, slots=True)
class Term:
    """One search term of a batch.

    Attributes:
        name: the row label of the report.
        query: the query as written.
        canonical: its canonical form (:func:`discovery.query.unparse.unparse`).
        node: the parsed query.
        line: the line of the TERMS file it came from (1-based).
    """

    name: str
    query: str
    canonical: str
    node: Node
    line: int


@dataclass(frozen=True, slots=True)
class TermProblem:
    """One problem of a TERMS file: 1-based line and column (0 when not applicable)."""

    line: int
    column: int
    message: str
    detail: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}" + (f"\n{self.detail}" if self.detail else "")


class BatchSyntaxError(UsageError):
    """A TERMS file with problems; carries every one of them (exit status 2)."""

    def __init__(self, source: str, problems: Sequence[TermProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        n = len(self.problems)
        head = f"{source}: {n} problem{'s' if n != 1 else ''}; nothing was run"
        super().__init__("\n".join([head, *(f"{source}: {p}" for p in self.problems)]))


def read_terms(path: Path) -> list[Term]:
    """Read and parse a TERMS file (text, or CSV when it ends in ``.csv``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (byte {exc.start + 1})") from None
    return parse_terms(text, csv_layout=path.suffix.lower() == ".csv", source=str(path))


def parse_terms(text: str, *, csv_layout: bool = False, source: str = "TERMS") -> list[Term]:
    """Parse TERMS text; raise :class:`BatchSyntaxError` listing every problem."""
    entries, problems = _csv_entries(text) if csv_layout else _text_entries(text)
    terms: list[Term] = []
    seen: dict[str, int] = {}
    for line, column, name, query in entries:
        try:
            node = parse_query(query)  # with the bounds of every query
        except QuerySyntaxError as exc:
            problems.append(
                TermProblem(
                    line,
                    column + exc.column if column else 0,
                    _query_message(exc, column),
                    exc.caret_lines(),
                )
            )
            continue
        key = name.casefold()
        if key in seen:
            problems.append(
                TermProblem(line, 0, f"the name {name!r} is used on line {seen[key]} already")
            )
            continue
        seen[key] = line
        terms.append(Term(name, query, unparse(node), node, line))
    if not entries and not problems:
        problems.append(TermProblem(1, 0, "no search terms in the file"))
    if len(entries) > MAX_TERMS:
        problems.append(TermProblem(1, 0, f"more than {MAX_TERMS} terms; split the batch"))
    if problems:
        raise BatchSyntaxError(source, sorted(problems, key=lambda p: (p.line, p.column)))
    return terms


def _control_problem(line: int, column: int, char: str, where: str) -> TermProblem:
    return TermProblem(
        line, column, f"a control character (U+{ord(char):04X}) in the {where}; remove it"
    )


def _query_message(exc: QuerySyntaxError, column: int) -> str:
    if column:
        return exc.message
    return f"query error at column {exc.column + 1} of the query: {exc.message}"


Entry = tuple[int, int, str, str]
"""(line, 1-based column where the query starts or 0 if unknown, name, query)."""


def _text_entries(text: str) -> tuple[list[Entry], list[TermProblem]]:
    entries: list[Entry] = []
    problems: list[TermProblem] = []
    for n, line in enumerate(_LINE_BREAK.split(text), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        bad = XLSX_ILLEGAL.search(line)
        if bad:
            problems.append(_control_problem(n, bad.start() + 1, bad.group(), "term"))
            continue
        m = _NAME_RE.match(line)
        if m and m.group(1).casefold() not in _FIELDS:
            name, query = m.group(1), m.group(2).rstrip()
            entries.append((n, m.start(2) + 1, name, query))
        elif m is None and re.match(r'^\s*[^":()\s][^":()]*?\s*:\s*$', line):
            problems.append(TermProblem(n, len(line.rstrip()) + 1, "a name with no query"))
        else:
            start = len(line) - len(line.lstrip())
            entries.append((n, start + 1, stripped, stripped))
    return entries, problems


def _csv_entries(text: str) -> tuple[list[Entry], list[TermProblem]]:
    entries: list[Entry] = []
    problems: list[TermProblem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return entries, [TermProblem(1, 0, "empty CSV: expected a header row name,query")]
        cols = [h.strip().casefold() for h in header]
        if "query" not in cols:
            return entries, [TermProblem(1, 0, "the CSV header has no 'query' column")]
        qi = cols.index("query")
        ni = cols.index("name") if "name" in cols else None
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            query = row[qi].strip() if qi < len(row) else ""
            name = row[ni].strip() if ni is not None and ni < len(row) else ""
            if not query:
                problems.append(TermProblem(line, 0, "a row with no query"))
                continue
            bad = [
                _control_problem(line, 0, m.group(), where)
                for where, value in (("name", name), ("query", query))
                if (m := XLSX_ILLEGAL.search(value))
            ]
            if bad:
                problems.append(bad[0])
                continue
            entries.append((line, 0, name or query, query))
    except csv.Error as exc:
        problems.append(TermProblem(reader.line_num, 0, f"unreadable CSV: {exc}"))
    return entries, problems
