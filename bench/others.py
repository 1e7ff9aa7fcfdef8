"""The engines discovery is measured against: SQLite FTS5 and, when installed, tantivy.

Both index the same texts as discovery, earlier versions of edited messages
included, each in a column of its own so that, as in discovery, no phrase
runs from one version into another (the generator writes at most one earlier
version). Queries are translated from discovery's parsed tree, so each engine
is asked the same question where it can say it:

* FTS5: ``NEAR(a b, N-1)`` is unordered and lets a word be near itself, so
  ``pre/N`` is asked as ``w/N`` (a superset; flagged); a wildcard only at the
  end of a word;
* tantivy: ``w/N`` and ``pre/N`` as the union of exact-offset phrases (its
  slop lets words swap places), words folded by its ``simple`` tokenizer with
  lower-casing and ASCII folding (no stop words);
* dates: a filter on the message's UTC time, bounds from discovery's own
  :func:`discovery.query.verify.date_bounds`.

A query either cannot say is left out for that engine (``None``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from discovery.query import verify
from discovery.query.ast import And, DateRange, Near, Node, Not, Or, Phrase, Word, has_wildcard
from discovery.store import to_us

Row = tuple[int, str, str, int]
"""(message id, current text, earlier versions joined, sent_us)"""


@dataclass
class Translated:
    """A query in another engine's terms; ``superset`` when it is a looser question."""

    text: Any
    dates: tuple[int | None, int | None] = (None, None)
    superset: bool = False


# --- FTS5 -------------------------------------------------------------------------


class Fts5:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)

    @classmethod
    def build(cls, path: Path, rows: Iterable[Row]) -> tuple[Fts5, float]:
        path.unlink(missing_ok=True)
        fts = cls(path)
        fts.db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(body, earlier, sent UNINDEXED,"
            ' tokenize = "unicode61 remove_diacritics 2")'
        )
        start = time.perf_counter()
        fts.db.executemany("INSERT INTO t (rowid, body, earlier, sent) VALUES (?, ?, ?, ?)", rows)
        fts.db.commit()
        return fts, time.perf_counter() - start

    def translate(self, node: Node, tz: tzinfo) -> Translated | None:
        core, dates = _split_dates(node, tz)
        if core is None:
            return None
        tr = _Fts5Text()
        text = tr.node(core)
        return None if text is None else Translated(text, dates, tr.superset)

    def _where(self, q: Translated) -> tuple[str, list[object]]:
        sql, params = "t MATCH ?", [q.text]
        lo, hi = q.dates
        if lo is not None:
            sql, params = sql + " AND sent >= ?", [*params, lo]
        if hi is not None:
            sql, params = sql + " AND sent < ?", [*params, hi]
        return sql, params

    def top(self, q: Translated, n: int = 20) -> list[int]:
        sql, params = self._where(q)
        return [
            r[0]
            for r in self.db.execute(
                f"SELECT rowid FROM t WHERE {sql} ORDER BY rank LIMIT {n}", params
            )
        ]

    def ids(self, q: Translated) -> set[int]:
        sql, params = self._where(q)
        return {r[0] for r in self.db.execute(f"SELECT rowid FROM t WHERE {sql}", params)}

    def count(self, q: Translated) -> int:
        sql, params = self._where(q)
        return int(self.db.execute(f"SELECT count(*) FROM t WHERE {sql}", params).fetchone()[0])

    def word_near_doc_count(self, target: int) -> str:
        """A word of more than two letters held by about ``target`` messages."""
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS v USING fts5vocab(t, 'row')")
        (word,) = self.db.execute(
            "SELECT term FROM v WHERE length(term) > 2 ORDER BY abs(doc - ?) LIMIT 1", (target,)
        ).fetchone()
        return str(word)

    def close(self) -> None:
        self.db.close()


class _Fts5Text:
    def __init__(self) -> None:
        self.superset = False

    def node(self, node: Node) -> str | None:
        if isinstance(node, Word):
            return _fts5_word(node.text)
        if isinstance(node, Phrase):
            if any(has_wildcard(w) for w in node.words):
                return None
            return '"' + " ".join(node.words) + '"'
        if isinstance(node, Or):
            items = [self.node(i) for i in node.items]
            return None if None in items else "(" + " OR ".join(items) + ")"  # type: ignore[arg-type]
        if isinstance(node, And):
            pos = [self.node(i) for i in node.items if not isinstance(i, Not)]
            neg = [self.node(i.item) for i in node.items if isinstance(i, Not)]
            if not pos or None in pos or None in neg:
                return None
            text = "(" + " AND ".join(pos) + ")"  # type: ignore[arg-type]
            return text + "".join(f" NOT {n}" for n in neg)
        if isinstance(node, Near):
            if node.negated or not all(
                isinstance(s, Word | Phrase) for s in (node.left, node.right)
            ):
                return None
            left, right = self.node(node.left), self.node(node.right)
            if left is None or right is None or "*" in left + right:
                return None
            self.superset = self.superset or node.ordered
            return f"NEAR({left} {right}, {node.distance - 1})"
        return None


def _fts5_word(word: str) -> str | None:
    if "?" in word or "*" in word[:-1]:
        return None
    return f'"{word[:-1]}"*' if word.endswith("*") else f'"{word}"'


# --- tantivy ----------------------------------------------------------------------


def tantivy_available() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


class Tantivy:
    def __init__(self, path: Path) -> None:
        import tantivy

        self.t = tantivy
        b = tantivy.SchemaBuilder()
        b.add_integer_field("id", stored=True, fast=True, indexed=True)
        b.add_integer_field("sent", fast=True, indexed=True)
        b.add_text_field("body", tokenizer_name="fold", index_option="position")
        b.add_text_field("earlier", tokenizer_name="fold", index_option="position")
        self.schema = b.build()
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(path))
        self.index.register_tokenizer(
            "fold",
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build(),
        )
        self.index.reload()
        self.searcher = self.index.searcher()

    @classmethod
    def build(cls, path: Path, rows: Iterable[Row]) -> tuple[Tantivy, float]:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        eng = cls(path)
        start = time.perf_counter()
        writer = eng.index.writer(heap_size=256_000_000, num_threads=2)
        for mid, text, earlier, sent in rows:
            writer.add_document(eng.t.Document(id=mid, sent=sent, body=text, earlier=earlier or ""))
        writer.commit()
        writer.wait_merging_threads()
        eng.index.reload()
        eng.searcher = eng.index.searcher()
        return eng, time.perf_counter() - start

    def translate(self, node: Node, tz: tzinfo) -> Translated | None:
        core, (lo, hi) = _split_dates(node, tz)
        if core is None:
            return None
        q = self._node(core)
        if q is None:
            return None
        if lo is not None or hi is not None:
            rng = self.t.Query.range_query(
                self.schema,
                "sent",
                self.t.FieldType.Integer,
                lo,
                None if hi is None else hi - 1,
            )
            q = self.t.Query.boolean_query([(self.t.Occur.Must, q), (self.t.Occur.Must, rng)])
        return Translated(q, (lo, hi))

    def _either(self, make: Any) -> Any:
        """A clause over the current text or the earlier one."""
        occ = self.t.Occur.Should
        return self.t.Query.boolean_query([(occ, make("body")), (occ, make("earlier"))])

    def _node(self, node: Node) -> Any:
        t = self.t
        if isinstance(node, Word):
            if "?" in node.text or "*" in node.text:
                rx = node.text.replace("?", r"\w").replace("*", r"\w*")
                return self._either(lambda f: t.Query.regex_query(self.schema, f, rx))
            return self._either(lambda f: t.Query.term_query(self.schema, f, node.text))
        if isinstance(node, Phrase):
            if any(has_wildcard(w) for w in node.words):
                return None
            return self._either(lambda f: t.Query.phrase_query(self.schema, f, list(node.words)))
        if isinstance(node, Or | And):
            items = [i for i in node.items]
            clauses = []
            for i in items:
                if isinstance(node, And) and isinstance(i, Not):
                    sub, occ = self._node(i.item), t.Occur.MustNot
                else:
                    sub, occ = (
                        self._node(i),
                        (t.Occur.Must if isinstance(node, And) else t.Occur.Should),
                    )
                if sub is None:
                    return None
                clauses.append((occ, sub))
            return t.Query.boolean_query(clauses)
        if isinstance(node, Near):
            return self._near(node)
        return None

    def _near(self, node: Near) -> Any:
        sides = []
        for side in (node.left, node.right):
            if isinstance(side, Word):
                sides.append([side.text])
            elif isinstance(side, Phrase):
                sides.append(list(side.words))
            else:
                return None
        if node.negated or any(has_wildcard(w) for s in sides for w in s):
            return None
        a, b = sides
        orders = [(a, b)] if node.ordered else [(a, b), (b, a)]
        phrases = []
        for first, second in orders:
            for gap in range(1, node.distance + 1):
                offsets = [(i, w) for i, w in enumerate(first)]
                start = len(first) - 1 + gap
                offsets += [(start + i, w) for i, w in enumerate(second)]
                phrases.append(offsets)
        occ = self.t.Occur.Should
        return self.t.Query.boolean_query(
            [
                (occ, self.t.Query.phrase_query(self.schema, f, [(o, w) for o, w in p]))
                for p in phrases
                for f in ("body", "earlier")
            ]
        )

    def top(self, q: Translated, n: int = 20) -> list[int]:
        hits = self.searcher.search(q.text, n, count=False).hits
        return self.searcher.fast_field_values("id", [a for _, a in hits])  # type: ignore[no-any-return]

    def count(self, q: Translated) -> int:
        return int(self.searcher.search(q.text, 1, count=True).count)

    def ids(self, q: Translated) -> set[int]:
        n = self.count(q)
        hits = self.searcher.search(q.text, max(n, 1), count=False).hits
        return set(self.searcher.fast_field_values("id", [a for _, a in hits]))

    def close(self) -> None:
        pass


# --- shared -----------------------------------------------------------------------


def _split_dates(node: Node, tz: tzinfo) -> tuple[Node | None, tuple[int | None, int | None]]:
    """A query without its top-level date ranges, and their UTC bounds (microseconds)."""
    if isinstance(node, DateRange):
        return None, (None, None)
    if not isinstance(node, And) or not any(isinstance(i, DateRange) for i in node.items):
        return node, (None, None)
    lo: int | None = None
    hi: int | None = None
    rest = []
    for item in node.items:
        if isinstance(item, DateRange):
            a, b = verify.date_bounds(item, tz)
            if a is not None:
                lo = max(lo or 0, to_us(a))
            if b is not None:
                hi = to_us(b) if hi is None else min(hi, to_us(b))
        else:
            rest.append(item)
    core = rest[0] if len(rest) == 1 else And(tuple(rest)) if rest else None
    return core, (lo, hi)


def rows_of(store: Any) -> Iterator[Row]:
    """Every stored message as the other engines index it."""
    import json

    for mid, text, versions, sent in store.db.execute(
        "SELECT id, text, versions, sent_us FROM messages ORDER BY id"
    ):
        yield mid, text, " ".join(json.loads(versions)) if versions else "", sent
