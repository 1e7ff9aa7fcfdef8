"""Measure discovery against SQLite FTS5 (and tantivy when installed) in one run.

Generates a synthetic Slack export (real layout), ingests it end to end with
the ``discovery`` command in a fresh process (wall time, CPU time and peak
memory are that process's own), builds FTS5 and tantivy over the same texts,
earlier versions included, then runs a fixed query set warm in this process
against all three, checking that the hit sets agree. Prints a table and
writes ``bench/out/latest.json``.

    python -m bench                                  # 200,000 messages (CI-sized)
    python -m bench --messages 1000000 --keep /work/bench-data/b1m
    python -m bench --messages 1000000 --keep /work/bench-data/b1m --reuse   # skip the build
    python -m bench --messages 10000000 --quick --keep /work/bench-data/b10m
    python -m bench --vocabulary 300000              # a realistic number of distinct words

For discovery each query is timed twice: top 20 hits with the summary line,
as ``discovery search`` shows them, and the exact hit set alone (what
``--count`` and reports need). The other engines: top 20 by their ranking,
and their hit set (FTS5: the rowids; tantivy: its count collector).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.ingest import run_ingest
from bench.others import Fts5, Tantivy, rows_of, tantivy_available

# (label, discovery query); the other engines get translations of the parsed query.
QUERIES: list[tuple[str, str]] = [
    ("term", "libgen"),
    ("phrase", '"pirated books"'),
    ("phrase with stop words", '"ask for permission"'),
    ("w/N", "forgiveness w/5 permission"),
    ("pre/N", "ask pre/3 forgiveness"),
    ("boolean", "(libgen OR pirated) AND NOT permission"),
    ("wildcard", "pirat*"),
    ("date-filtered phrase", '"ask forgiveness" AND sent:2023-03-01..2023-06-30'),
    ("two common words", '"of the"'),
    ("common-word w/N", "the w/5 for"),
]
QUICK = {"term", "phrase", "w/N", "two common words", "common-word w/N"}
COUNT_SHARE = 0.05
"""The --count figure is for a word held by this share of all messages."""
FRESH = ["libgen", '"pirated books"', '"of the"']


def _time(fn: Callable[[], object], reps: int) -> tuple[float, float, Any]:
    out = fn()  # warm
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, out


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _discovery(*args: str) -> list[str]:
    return [sys.executable, "-m", "discovery", *args, "--matter", "bench"]


def _build(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """Generate, ingest and build the other engines, or reuse an earlier run's build."""
    saved = work / "build.json"
    wanted = {"messages": args.messages, "seed": args.seed, "vocabulary": args.vocabulary}
    if args.reuse and saved.exists():
        build: dict[str, Any] = json.loads(saved.read_text())
        if {k: build.get(k) for k in wanted} == wanted:
            return build
        sys.exit(f"{saved} was built with other arguments: {build}")
    from discovery.synth import generate_slack_export

    for sub in ("export", "home", "fts.sqlite", "tantivy"):
        p = work / sub
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    t = time.perf_counter()
    generate_slack_export(
        work / "export", args.messages, seed=args.seed, vocabulary=args.vocabulary
    )
    build = {**wanted, "generate_s": time.perf_counter() - t}
    build.update(run_ingest(work / "export", env, trace=work / "ingest-memory.tsv"))
    matter_dir = work / "home" / "bench"
    build["store_mb"] = (matter_dir / "case.sqlite").stat().st_size / 1e6
    build["index_mb"] = _du(matter_dir / "index") / 1e6
    from discovery.matter import open_matter

    with open_matter("bench") as matter:
        store = matter.store
        fts, build["fts5_build_s"] = Fts5.build(work / "fts.sqlite", rows_of(store))
        fts.close()
        build["fts5_mb"] = (work / "fts.sqlite").stat().st_size / 1e6
        if tantivy_available():
            _, build["tantivy_build_s"] = Tantivy.build(work / "tantivy", rows_of(store))
            build["tantivy_mb"] = _du(work / "tantivy") / 1e6
    saved.write_text(json.dumps(build, indent=2))
    return build


def _agreement(ours: set[int], theirs: set[int]) -> str:
    if ours == theirs:
        return "="
    return f"+{len(theirs - ours)}/-{len(ours - theirs)}"


def _queries(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    from discovery.matter import open_matter
    from discovery.query.parser import parse
    from discovery.search import Searcher

    fts = Fts5(work / "fts.sqlite")
    tan = Tantivy(work / "tantivy") if (work / "tantivy").exists() and tantivy_available() else None
    matter = open_matter("bench")
    n = matter.store.max_message_id()
    count_word = fts.word_near_doc_count(round(n * COUNT_SHARE))
    queries = [(label, q) for label, q in QUERIES if not args.quick or label in QUICK]
    queries.append((f"--count of a word in {COUNT_SHARE:.0%} ({count_word})", count_word))
    searcher = Searcher(matter, resident=True)  # warm: one process searching again and again
    reps = args.reps
    results = []
    for label, q in queries:
        counting = label.startswith("--count")
        row: dict[str, Any] = {"query": label, "text": q}
        exact = searcher.match(q, include_system=True)[1]
        row["hits"] = len(exact)
        if counting:
            row["p50_ms"], row["p95_ms"], _ = _time(lambda q=q: searcher.count(q), reps)
        else:
            row["p50_ms"], row["p95_ms"], _ = _time(lambda q=q: searcher.search(q, limit=20), reps)
            row["set_p50_ms"], _, _ = _time(lambda q=q: searcher.match(q), reps)
        node = parse(q)
        for name, eng in (("fts5", fts), ("tantivy", tan)):
            tq = None if eng is None else eng.translate(node, matter.tz)
            if eng is None or tq is None:
                continue
            if counting:
                row[f"{name}_set_p50_ms"], _, _ = _time(lambda e=eng, t=tq: e.count(t), reps)
            else:
                row[f"{name}_p50_ms"], _, _ = _time(lambda e=eng, t=tq: e.top(t), reps)
                # FTS5's hit set is its rowids; tantivy's, its count collector.
                hit_set = eng.ids if name == "fts5" else eng.count
                row[f"{name}_set_p50_ms"], _, _ = _time(lambda s=hit_set, t=tq: s(t), reps)
            row[f"{name}_agree"] = _agreement(exact, eng.ids(tq)) + (
                " (unordered)" if tq.superset else ""
            )
        results.append(row)
    matter.close()
    fts.close()
    return results


def _fresh(env: dict[str, str], reps: int) -> dict[str, float]:
    """Median wall time of a new ``discovery search`` process, its modules compiled first
    as ``pip install`` leaves them (``python -m bench.startup`` also times it without)."""
    import compileall

    import discovery

    compileall.compile_dir(Path(discovery.__file__).parent, quiet=1)
    out = {}
    for q in FRESH:
        samples = []
        for _ in range(reps):
            t = time.perf_counter()
            subprocess.run(_discovery("search", q), check=True, env=env, stdout=subprocess.DEVNULL)
            samples.append(time.perf_counter() - t)
        out[q] = statistics.median(samples)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--vocabulary", type=int, default=0, help="made-up words added (synth)")
    ap.add_argument("--keep", type=Path, help="build (and keep) the export and matters here")
    ap.add_argument("--reuse", action="store_true", help="reuse the build kept in --keep")
    ap.add_argument("--quick", action="store_true", help="ingest and a few queries")
    ap.add_argument("--reps", type=int, default=None, help="timed runs per query (21; quick 7)")
    args = ap.parse_args()
    if args.reps is None:
        args.reps = 7 if args.quick else 21
    if args.reuse and not args.keep:
        ap.error("--reuse needs --keep")

    work = args.keep or Path(tempfile.mkdtemp(prefix="discovery-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    env = {**os.environ, "DISCOVERY_HOME": str(home)}
    os.environ["DISCOVERY_HOME"] = str(home)

    build = _build(args, work, env)
    report: dict[str, Any] = {
        **build,
        "load_average": os.getloadavg(),
        "ingest_msgs_per_s": build["messages"] / build["ingest_s"],
        "ingest_msgs_per_cpu_s": build["messages"] / build["ingest_cpu_s"],
        "fts5_msgs_per_s": build["messages"] / build["fts5_build_s"],
        "queries": _queries(args, work),
        "fresh_process_s": _fresh(env, 1 if args.quick else 3),
    }
    if not args.quick:
        report["naive_scan_ms"] = _naive(work)
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2))
    _print(report)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _naive(work: Path) -> float:
    """One regular-expression pass over every text, for scale."""
    fts = Fts5(work / "fts.sqlite")
    texts = [r[0] for r in fts.db.execute("SELECT body FROM t")]
    fts.close()
    pattern = re.compile(r"\bask\W+for\W+permission\b", re.IGNORECASE)
    t = time.perf_counter()
    sum(1 for x in texts if pattern.search(x))
    return (time.perf_counter() - t) * 1000


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def _print(r: dict[str, Any]) -> None:
    n = r["messages"]
    print(f"messages: {n:,} (vocabulary +{r['vocabulary']:,}); load average {r['load_average']}")
    print(
        f"ingest end to end: {r['ingest_s']:.1f} s = {r['ingest_msgs_per_s']:,.0f} msg/s,"
        f" {r['ingest_msgs_per_cpu_s']:,.0f} msg per CPU-second (workers included);"
        f" load {r.get('load_before_ingest', 0):.1f} -> {r.get('load_after_ingest', 0):.1f}"
    )
    if "peak_tree_pss_mb_ingest" in r:
        print(
            f"peak memory of the ingest: {r['peak_tree_pss_mb_ingest']:.0f} MB PSS over its"
            f" {r['ingest_processes']} processes ({r['peak_tree_rss_mb_ingest']:.0f} MB RSS"
            f" summed); largest process {r['peak_rss_mb_ingest']:.0f} MB"
        )
    else:
        print(f"peak RSS of the ingest: {r['peak_rss_mb_ingest']:.0f} MB")
    others = f"FTS5 build of the same texts: {r['fts5_build_s']:.1f} s"
    if "tantivy_build_s" in r:
        others += f"; tantivy: {r['tantivy_build_s']:.1f} s"
    print(f"{others}; discovery / FTS5 build time {r['ingest_s'] / r['fts5_build_s']:.1f}x")
    sizes = (
        f"store {r['store_mb']:.0f} MB + index {r['index_mb']:.0f} MB; FTS5 {r['fts5_mb']:.0f} MB"
    )
    print(sizes + (f"; tantivy {r['tantivy_mb']:.0f} MB" if "tantivy_mb" in r else ""))
    head = (
        f"{'query':<34} {'hits':>7} | {'top20':>6} {'p95':>6} {'set':>6} | {'FTS5':>6}"
        f" {'set':>6} {'set×':>5} {'agree':>8} | {'tantivy':>7} {'count':>6} {'agree':>6}"
    )
    print("warm ms (p50 unless marked)")
    print(head)
    for q in r["queries"]:
        ours = q.get("set_p50_ms", q["p50_ms"])
        fset = q.get("fts5_set_p50_ms")
        ratio = f"{ours / fset:.1f}" if fset else "-"
        print(
            f"{q['query'][:34]:<34} {q['hits']:>7} | {_ms(q['p50_ms']):>6} {_ms(q['p95_ms']):>6}"
            f" {_ms(q.get('set_p50_ms')):>6} | {_ms(q.get('fts5_p50_ms')):>6}"
            f" {_ms(q.get('fts5_set_p50_ms')):>6} {ratio:>5} {q.get('fts5_agree', '-'):>8} |"
            f" {_ms(q.get('tantivy_p50_ms')):>7} {_ms(q.get('tantivy_set_p50_ms')):>6}"
            f" {q.get('tantivy_agree', '-'):>6}"
        )
    fresh = ", ".join(f"{q} {s:.2f} s" for q, s in r["fresh_process_s"].items())
    print(f"fresh `discovery search` process: {fresh}")
    if "naive_scan_ms" in r:
        print(f"naive regex scan of every text for one phrase: {r['naive_scan_ms']:.0f} ms")


if __name__ == "__main__":
    main()
