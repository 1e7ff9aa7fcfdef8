"""Search term reports for a batch (PRODUCT.md §6), as CSV or XLSX, and their comparison.

One row per term, in the batch's order:

* ``messages``: messages the term hits;
* ``unique_messages``: of those, messages hit by no other term of the batch;
* ``conversations``: conversations holding a hit;
* ``conversation_days``: distinct (conversation, calendar day) pairs of the
  hits, days taken in the report's zone. A day is the local calendar date, so
  a 23- or 25-hour day at a daylight-saving change is still one day;
* ``custodians``: custodians holding any hit (a message held by several
  custodians counts for each);
* ``first_hit``, ``last_hit``: the earliest and latest hit, local time in the
  report's zone (ISO 8601 to the second, with offset; empty without hits);
* ``families``: families hit, each once however many of its members hit (a
  message and its attachments are one family; a hit in an attachment counts
  its parent's family);
* ``attachments``: of the messages hit, those that are family members
  (attachments' text, ``kind:attachment``).

The ``TOTAL`` row counts the same over the messages hit by any term; its
``unique_messages`` is the number hit by exactly one term, its ``query`` is
empty.

**Levels** (``--level``, any of :data:`LEVELS`): a chat review counts units
larger than the message, as Relativity counts 24-hour slices as documents.
For each level asked, two columns follow the others, the same counts as
``messages`` and ``unique_messages`` have at the message level:

* ``conversation-day``: ``unique_conversation_days`` (conversation-days hit
  by this term and by no other) and ``conversation_day_messages`` (messages
  in the conversation-days it hits: what a reviewer reads when the day is the
  unit); the hit count itself is ``conversation_days``;
* ``conversation``: ``unique_conversations`` and ``conversation_messages``;
* ``message``: the counts the report always has (nothing is added).

The messages of a unit are counted as hits are: system events only with
``--system``, and only what is indexed. Chat-aware terms (``W/3MSG``,
``W/10MIN`` ...) are counted like any other term: their hits are messages.

The hit sets come from :meth:`discovery.search.Searcher.match`, one call per
term; the counting reads each hit message's conversation and time once for
the union of all hits (a few SQL queries), so it does not grow with the size
of the matter.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, tzinfo
from pathlib import Path

from discovery import family_store
from discovery.batch import Term
from discovery.errors import DiscoveryError, UsageError
from discovery.export import formula_like, write_csv, xlsx_text
from discovery.files import output
from discovery.matter import Matter, View
from discovery.model import UNDATED_US
from discovery.search import Searcher
from discovery.store import from_us

REPORT_COLUMNS = (
    "term",
    "query",
    "messages",
    "unique_messages",
    "conversations",
    "conversation_days",
    "custodians",
    "first_hit",
    "last_hit",
    "families",
    "attachments",
)
REQUIRED_COLUMNS = REPORT_COLUMNS[:9]
"""The columns a report CSV must have to be compared (older ones lack the family counts)."""
TOTAL = "TOTAL"
NUMBER_COLUMNS = (*REPORT_COLUMNS[2:7], *REPORT_COLUMNS[9:])
LEVELS = ("message", "conversation-day", "conversation")
LEVEL_COLUMNS = {
    "message": (),
    "conversation-day": ("unique_conversation_days", "conversation_day_messages"),
    "conversation": ("unique_conversations", "conversation_messages"),
}
"""The columns each ``--level`` adds, after :data:`REPORT_COLUMNS`."""


@dataclass(frozen=True, slots=True)
class ReportRow:
    term: str
    query: str
    messages: int
    unique_messages: int
    conversations: int
    conversation_days: int
    custodians: int
    first_hit: str
    last_hit: str
    families: int = 0
    attachments: int = 0
    levels: tuple[int, ...] = ()
    """The values of the level columns asked for (:data:`LEVEL_COLUMNS`), in order."""

    def cells(self) -> list[str | int]:
        return [getattr(self, f.name) for f in fields(self) if f.name != "levels"] + list(
            self.levels
        )


@dataclass(frozen=True, slots=True)
class Report:
    """A search term report: the term rows, the total row and each term's hit ids."""

    rows: tuple[ReportRow, ...]
    total: ReportRow
    hits: tuple[frozenset[int], ...]
    zone: str
    levels: tuple[str, ...] = ()

    def all_rows(self) -> list[ReportRow]:
        return [*self.rows, self.total]

    @property
    def columns(self) -> tuple[str, ...]:
        """The report's columns: :data:`REPORT_COLUMNS` and those of its levels."""
        return REPORT_COLUMNS + tuple(c for lv in self.levels for c in LEVEL_COLUMNS[lv])


def build_report(
    matter: Matter,
    terms: Sequence[Term],
    tz: tzinfo,
    *,
    zone_name: str = "",
    include_system: bool = False,
    view: View | None = None,
    levels: Sequence[str] = (),
) -> Report:
    """Run every term and count its hits at message, conversation, day and custodian level
    (and the columns of each of ``levels``, see the module notes).

    Every term answers over the same ``view`` of the matter (taken once when
    not given), so a batch run during an ingest counts one consistent state.
    """
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise UsageError(f"unknown --level {bad[0]!r}: use {', '.join(LEVELS)}")
    levels = tuple(dict.fromkeys(lv for lv in levels if LEVEL_COLUMNS[lv]))
    searcher = Searcher(matter)
    view = matter.view() if view is None else view
    hits = [
        frozenset(searcher.match(t.query, include_system=include_system, view=view)[1])
        for t in terms
    ]
    union: set[int] = set().union(*hits)
    facts = _facts(matter, sorted(union), tz)
    times_hit = Counter(i for h in hits for i in h)
    once = {i for i, n in times_hit.items() if n == 1}
    rows = tuple(
        _row(t.name, t.canonical, h, len(h & once), facts, tz)
        for t, h in zip(terms, hits, strict=True)
    )
    total = _row(TOTAL, "", union, len(once), facts, tz)
    if levels:
        sizes = _unit_sizes(matter, facts, tz, include_system, view.indexed)
        counts = [_level_counts(hits, facts, sizes, lv) for lv in levels]
        rows = tuple(
            replace(r, levels=tuple(v for c in counts for v in c[i])) for i, r in enumerate(rows)
        )
        total = replace(total, levels=tuple(v for c in counts for v in c[-1]))
    return Report(rows, total, tuple(hits), zone_name or str(tz), levels)


def _level_counts(
    hits: Sequence[frozenset[int]], facts: _Facts, sizes: dict[str, Counter[int]], level: str
) -> list[tuple[int, int]]:
    """(unique units, messages in the units hit) for each term, then for the TOTAL row.

    A term's unique units are hit by no other term; the TOTAL row's, by exactly one.
    """
    unit = facts.day if level == "conversation-day" else facts.conversation
    per_term = [{unit[i] for i in h} for h in hits]
    times = Counter(u for units in per_term for u in units)
    out = [
        (sum(1 for u in units if times[u] == 1), sum(sizes[level][u] for u in units))
        for units in per_term
    ]
    every = set(times)
    out.append((sum(1 for u in every if times[u] == 1), sum(sizes[level][u] for u in every)))
    return out


def _unit_sizes(
    matter: Matter, facts: _Facts, tz: tzinfo, include_system: bool, indexed: int
) -> dict[str, Counter[int]]:
    """Messages in each hit conversation-day and hit conversation (the unit numbers of
    ``facts``), counted as hits are: system events only when included, indexed only."""
    conv_of = set(facts.conversation.values())
    days: Counter[int] = Counter()
    convs: Counter[int] = Counter()
    for conv, sent in matter.store.conversation_times(sorted(conv_of), include_system, indexed):
        convs[conv] += 1
        key = facts.day_keys.get((conv, from_us(sent).astimezone(tz).date()))
        if key is not None:
            days[key] += 1
    return {"conversation-day": days, "conversation": convs}


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the counts need of each hit message."""

    time: dict[int, int]
    """Sent time (µs since the epoch, UTC)."""
    conversation: dict[int, int]
    day: dict[int, int]
    """A number standing for the message's (conversation, local calendar day)."""
    custodians: dict[int, tuple[str, ...]]
    day_keys: dict[tuple[int, date], int]
    """(conversation, local day) -> its number in ``day``."""
    parent: dict[int, int]
    """Family member -> its parent (messages are their own family's root)."""


def _facts(matter: Matter, ids: Sequence[int], tz: tzinfo) -> _Facts:
    times: dict[int, int] = {}
    convs: dict[int, int] = {}
    days: dict[int, int] = {}
    day_keys: dict[tuple[int, date], int] = {}
    local_date: dict[int, date] = {}
    for mid, conv, sent in matter.store.summary_rows(ids):
        times[mid] = sent
        convs[mid] = conv
        second = sent // 1_000_000
        d = local_date.get(second)
        if d is None:
            d = local_date[second] = from_us(second * 1_000_000).astimezone(tz).date()
        days[mid] = day_keys.setdefault((conv, d), len(day_keys))
    parents = family_store.parents_of(matter.store.db, ids)
    return _Facts(times, convs, days, matter.store.custodians_of(ids), day_keys, parents)


def _row(
    name: str, query: str, ids: Iterable[int], unique: int, facts: _Facts, tz: tzinfo
) -> ReportRow:
    ids = list(ids)
    stamps = [facts.time[i] for i in ids if facts.time[i] != UNDATED_US]  # no invented dates
    holders: set[str] = set()
    for cs in {facts.custodians.get(i, ()) for i in ids}:
        holders.update(cs)
    return ReportRow(
        term=name,
        query=query,
        messages=len(ids),
        unique_messages=unique,
        conversations=len({facts.conversation[i] for i in ids}),
        conversation_days=len({facts.day[i] for i in ids}),
        custodians=len(holders),
        first_hit=_local(min(stamps), tz) if stamps else "",
        last_hit=_local(max(stamps), tz) if stamps else "",
        families=len({facts.parent.get(i, i) for i in ids}),
        attachments=sum(1 for i in ids if i in facts.parent),
    )


def _local(us: int, tz: tzinfo) -> str:
    return from_us(us).astimezone(tz).isoformat(timespec="seconds")


# --- output ----------------------------------------------------------------
def write_report_csv(report: Report, path: Path, *, bom: bool = False) -> int:
    """The report as a neutralised UTF-8 CSV; returns rows written (with TOTAL)."""
    try:
        rows = ([str(v) for v in r.cells()] for r in report.all_rows())
        return write_csv(path, report.columns, rows, bom=bom)
    except OSError as exc:
        raise DiscoveryError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_report_xlsx(report: Report, path: Path) -> None:
    """The report as an XLSX: a header row, frozen panes, numbers as numbers.

    Every text cell goes through :func:`discovery.export.xlsx_text`, so a term
    name or query starting with ``=``, ``+``, ``-`` or ``@`` is stored as text,
    never as a formula (openpyxl would otherwise write ``=...`` as one), and a
    control character XLSX cannot hold is written as ``\\xNN`` rather than
    failing the whole file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Search term report"
    ws.append(list(report.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in report.all_rows():
        ws.append([xlsx_text(v) if isinstance(v, str) else v for v in row.cells()])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "C2"
    for col, width in zip("ABCDEFGHI", (28, 48, 10, 10, 10, 10, 10, 26, 26), strict=True):
        ws.column_dimensions[col].width = width
    with output(path, "wb") as f:
        wb.save(f)


# --- comparing two runs ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RowChange:
    """How one term's row differs between an earlier report and this one.

    ``status`` is ``added``, ``removed``, ``changed`` or ``same``; ``changes``
    maps a column to (earlier value, current value) for every column that
    differs (numbers as ints).
    """

    term: str
    status: str
    changes: dict[str, tuple[str | int, str | int]]


def read_report_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a report CSV written by :func:`write_report_csv` (neutralisation undone)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not a search term report CSV: {exc}") from None
    if not rows or any(c not in rows[0] for c in REQUIRED_COLUMNS):
        raise UsageError(
            f"{path} is not a search term report CSV (expected the columns"
            f" {', '.join(REQUIRED_COLUMNS)})"
        )
    return [{k: _unneutralise(v or "") for k, v in r.items() if k in REPORT_COLUMNS} for r in rows]


def _unneutralise(value: str) -> str:
    if value.startswith("'") and formula_like(value[1:]):
        return value[1:]
    return value


def compare(earlier: Sequence[dict[str, str]], report: Report) -> list[RowChange]:
    """Row-by-row differences, matched by term name; the current order, then removed terms."""
    before = {r["term"]: r for r in earlier}
    out: list[RowChange] = []
    for row in report.all_rows():
        old = before.pop(row.term, None)
        if old is None:
            out.append(RowChange(row.term, "added", {}))
            continue
        changes: dict[str, tuple[str | int, str | int]] = {}
        for col, value in zip(REPORT_COLUMNS[1:], row.cells()[1:], strict=True):
            if col not in old:  # a column the earlier report did not have
                continue
            was: str | int = old[col]
            if col in NUMBER_COLUMNS:
                was = int(was) if str(was).isdigit() else was
            if was != value:
                changes[col] = (was, value)
        out.append(RowChange(row.term, "changed" if changes else "same", changes))
    out.extend(RowChange(name, "removed", {}) for name in before)
    return out
