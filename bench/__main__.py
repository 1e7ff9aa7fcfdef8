"""Measure ingest and query speed against SQLite FTS5 and a naive scan, in one run.

Generates a synthetic Slack export (real layout), ingests it end to end with
the ``discovery`` command (a fresh process, so peak memory is its own), then
runs a fixed query set warm in this process, and the same queries, where FTS5
can say the same thing, over an FTS5 table of the same texts. Prints a table
and writes ``bench/out/latest.json``.

    python -m bench --messages 200000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from discovery.matter import open_matter
from discovery.search import Searcher
from discovery.synth import generate_slack_export

# (label, discovery query, FTS5 MATCH or None where FTS5 cannot say the same)
QUERIES: list[tuple[str, str, str | None]] = [
    ("term", "libgen", "libgen"),
    ("phrase", '"pirated books"', '"pirated books"'),
    ("phrase with stop words", '"ask for permission"', '"ask for permission"'),
    ("w/N", "forgiveness w/5 permission", "NEAR(forgiveness permission, 4)"),
    ("pre/N", "ask pre/3 forgiveness", None),
    ("boolean", "(libgen OR pirated) AND NOT permission", "(libgen OR pirated) NOT permission"),
    ("wildcard", "pirat*", "pirat*"),
    ("date-filtered phrase", '"ask forgiveness" AND sent:2023-03-01..2023-06-30', None),
    ("phrase of two common words", '"of the"', '"of the"'),
]
REPS = 21


def _time(fn: Callable[[], object], reps: int = REPS) -> tuple[float, float, object]:
    fn()  # warm
    samples = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, out


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _fts5(db_path: Path, rows: list[tuple[int, str]]) -> tuple[sqlite3.Connection, float]:
    db = sqlite3.connect(db_path)
    db.execute(
        'CREATE VIRTUAL TABLE t USING fts5(body, tokenize = "unicode61 remove_diacritics 2")'
    )
    start = time.perf_counter()
    db.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)", rows)
    db.commit()
    return db, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="keep the generated export and matter here")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="discovery-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    export_dir = work / "export"
    home = work / "home"
    if export_dir.exists():
        shutil.rmtree(export_dir)
    if home.exists():
        shutil.rmtree(home)
    t = time.perf_counter()
    generate_slack_export(export_dir, args.messages, seed=args.seed)
    gen_s = time.perf_counter() - t
    env = {**os.environ, "DISCOVERY_HOME": str(home)}
    os.environ["DISCOVERY_HOME"] = str(home)

    # Ingest end to end, as a user runs it.
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "discovery",
            "ingest",
            str(export_dir),
            "--matter",
            "bench",
            "--custodian",
            "bench",
            "--json",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    ingest_s = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    matter_dir = home / "bench"
    sizes = {
        "store_mb": (matter_dir / "case.sqlite").stat().st_size / 1e6,
        "index_mb": _du(matter_dir / "index") / 1e6,
    }

    matter = open_matter("bench")
    n = matter.store.max_message_id()
    rows = [(i, t) for i, t, _ in matter.store.iter_index_rows(0)]
    fts, fts_s = _fts5(work / "fts.sqlite", rows)
    fts_size = (work / "fts.sqlite").stat().st_size / 1e6

    # A word that about 10,000 messages hold, for the --count figure.
    fts.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    count_word = fts.execute(
        "SELECT term FROM v WHERE length(term) > 2 ORDER BY abs(doc - 10000) LIMIT 1"
    ).fetchone()[0]
    queries = [*QUERIES, (f"count of ~10k hits ({count_word})", count_word, count_word)]

    searcher = Searcher(matter)
    results = []
    texts = [t for _, t in rows]
    for label, q, fq in queries:
        if label.startswith("count"):
            p50, p95, hits = _time(lambda q=q: searcher.count(q))
        else:
            p50, p95, res = _time(lambda q=q: searcher.search(q, limit=20))
            hits = res.total  # type: ignore[attr-defined]
        row: dict[str, object] = {
            "query": label,
            "text": q,
            "hits": hits,
            "p50_ms": p50,
            "p95_ms": p95,
        }
        if fq is not None:
            sql = (
                "SELECT count(*) FROM t WHERE t MATCH ?"
                if label.startswith("count")
                else "SELECT rowid FROM t WHERE t MATCH ? ORDER BY rank LIMIT 20"
            )
            f50, f95, _ = _time(lambda fq=fq, sql=sql: fts.execute(sql, (fq,)).fetchall())
            (fhits,) = fts.execute("SELECT count(*) FROM t WHERE t MATCH ?", (fq,)).fetchone()
            row.update(fts_p50_ms=f50, fts_p95_ms=f95, fts_hits=fhits, ratio=p50 / f50)
        results.append(row)

    # The naive baseline: scan every message for the phrase.
    pattern = re.compile(r"\bask\W+for\W+permission\b", re.IGNORECASE)
    naive50, _, naive_hits = _time(lambda: sum(1 for t in texts if pattern.search(t)), reps=3)

    # A fresh process, as a paralegal types it.
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "discovery",
            "search",
            '"ask forgiveness" w/5 permission',
            "--matter",
            "bench",
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    fresh_s = time.perf_counter() - t
    matter.close()

    report = {
        "messages": n,
        "generate_s": gen_s,
        "ingest_s": ingest_s,
        "ingest_msgs_per_s": n / ingest_s,
        "fts5_insert_s": fts_s,
        "fts5_msgs_per_s": n / fts_s,
        "ingest_ratio_to_fts5": (n / ingest_s) / (n / fts_s),
        "peak_rss_mb_ingest": peak_mb,
        **sizes,
        "fts5_mb": fts_size,
        "queries": results,
        "naive_phrase_scan_ms": naive50,
        "naive_phrase_hits": naive_hits,
        "fresh_process_search_s": fresh_s,
    }
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2))
    _print(report)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _print(r: dict) -> None:  # type: ignore[type-arg]
    print(f"messages: {r['messages']:,}")
    print(
        f"ingest: {r['ingest_s']:.1f} s = {r['ingest_msgs_per_s']:,.0f} msg/s end to end "
        f"(FTS5 insert of the same texts: {r['fts5_msgs_per_s']:,.0f} msg/s; "
        f"ratio {r['ingest_ratio_to_fts5']:.3f})"
    )
    print(
        f"peak RSS of the ingest process: {r['peak_rss_mb_ingest']:.0f} MB; store "
        f"{r['store_mb']:.0f} MB + index {r['index_mb']:.0f} MB (FTS5 {r['fts5_mb']:.0f} MB)"
    )
    print(f"{'query':<32} {'hits':>7} {'p50 ms':>8} {'p95 ms':>8} {'FTS5 p50':>9} {'ratio':>7}")
    for q in r["queries"]:
        f50 = f"{q['fts_p50_ms']:.2f}" if "fts_p50_ms" in q else "-"
        ratio = f"{q['ratio']:.1f}x" if "ratio" in q else "-"
        print(
            f"{q['query']:<32} {q['hits']:>7} {q['p50_ms']:>8.1f} {q['p95_ms']:>8.1f} "
            f"{f50:>9} {ratio:>7}"
        )
    print(f"naive scan for a phrase: {r['naive_phrase_scan_ms']:.0f} ms")
    print(f"fresh process `discovery search`: {r['fresh_process_search_s']:.2f} s")


if __name__ == "__main__":
    main()
