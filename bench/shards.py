"""Sharded ingest on a local Dask cluster against one process, in the same run.

    python -m bench.shards --messages 200000
    python -m bench.shards --messages 1000000 --keep /work/bench-data/shards1m
    python -m bench.shards --messages 1000000 --runs 3   # ranges over three rounds

Generates ``--sources`` synthetic Slack exports (real layout, different seeds)
holding ``--messages`` in all, then ingests them three times with the
``discovery`` command, each in a fresh process and a fresh matter:

* ``one``: a one-shard matter, one process (``DISCOVERY_JOBS=1``): the reference;
* ``w1``: ``--shards S --workers 1``: a local Dask cluster of one worker process;
* ``w2``: ``--shards S --workers 2``.

Wall and CPU time (the whole process tree's: the cluster's processes are the
ingest's children) and peak memory (PSS summed over the tree) of each, the
load average before and after, then the query set of ``python -m bench`` run
warm against ``one`` and ``w2``: median latency of each and their ratio, the
hit sets checked equal. Prints JSON and writes ``bench/out/shards.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ingest import run_ingest

QUERIES = [
    "libgen",
    '"pirated books"',
    '"ask for permission"',
    "forgiveness w/5 permission",
    "(libgen OR pirated) AND NOT permission",
    "pirat*",
    '"of the"',
    "the w/5 for",
    "libgen w/10msg data",
]


def _queries(home: Path, names: list[str], reps: int) -> dict[str, Any]:
    os.environ["DISCOVERY_HOME"] = str(home)
    from discovery.matter import open_matter
    from discovery.search import Searcher

    out: dict[str, Any] = {}
    hits: dict[str, list[tuple[int, ...]]] = {}
    for name in names:
        with open_matter(name) as m:
            s = Searcher(m, resident=True)  # warm, as the review screen
            times, found = [], []
            for q in QUERIES:
                found.append(s.search(q, limit=20).ids)  # warm
                per = []
                for _ in range(reps):
                    t = time.perf_counter()
                    s.search(q, limit=20)
                    per.append(time.perf_counter() - t)
                times.append(statistics.median(per))
            hits[name] = found
            out[name] = {q: round(t * 1000, 2) for q, t in zip(QUERIES, times, strict=True)}
            out[f"{name}_p50_ms"] = round(statistics.median(times) * 1000, 2)
    first, *rest = names
    out["hits_equal"] = all(hits[n] == hits[first] for n in rest)
    return out


def _summary(result: dict[str, Any]) -> str:
    """The figures issue 15 asks for, against its targets, for docs/SCALE.md."""
    lines = [f"{result['messages']:,} messages, {result['sources']} sources, {result['cpus']} CPUs"]
    for i, run in enumerate(result["runs"], 1):
        for name in ("one", "w1", "w2"):
            r = run[name]
            lines.append(
                f"  run {i} {name}: {r['ingest_s']:.1f} s wall, {r['ingest_cpu_s']:.1f} CPU-s,"
                f" peak PSS {r['peak_tree_pss_mb_ingest']:.0f} MB, {r['msgs_per_s']:,.0f} msg/s"
                f" (load {r['load_before_ingest']:.1f} -> {r['load_after_ingest']:.1f})"
            )
    q = result["queries"]
    lines += [
        f"  speed-up w2 vs w1 {_span(result['speedup_w2_vs_w1'])} (target >= 1.7x),"
        f" w2 vs one {_span(result['speedup_w2_vs_one'])}",
        f"  query p50 one {q['one_p50_ms']} ms, w2 {q['w2_p50_ms']} ms:"
        f" {result['query_p50_ratio']:.2f}x (target <= 1.5x); hit sets equal: {q['hits_equal']}",
    ]
    return "\n".join(lines)


def _span(values: list[float]) -> str:
    """A figure over the runs: its range, or the one value."""
    low, high = min(values), max(values)
    return f"{low:.2f}x" if low == high else f"{low:.2f}-{high:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.shards", description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--sources", type=int, default=8)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--runs", type=int, default=1, help="ingest rounds (one, w1, w2 in turn): ranges"
    )
    ap.add_argument("--keep", type=Path, help="folder for the exports and matters (kept)")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-shards-"))
    exports = base / "exports"
    per = args.messages // args.sources
    paths = [exports / f"s{i:02d}" for i in range(args.sources)]
    if not all(p.is_dir() for p in paths):
        from discovery.synth import generate_slack_export

        shutil.rmtree(exports, ignore_errors=True)
        t = time.perf_counter()
        for i, p in enumerate(paths):
            generate_slack_export(p, per, seed=100 + i)
        print(f"generated {per * args.sources:,} messages in {time.perf_counter() - t:.0f} s")
    home = base / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "DISCOVERY_HOME": str(home), "DISCOVERY_JOBS": "1"}
    shards = ["--shards", str(args.shards)]
    runs = {
        "one": [],
        "w1": [*shards, "--workers", "1"],
        "w2": [*shards, "--workers", "2"],
    }
    result: dict[str, Any] = {"messages": per * args.sources, "sources": args.sources}
    result["cpus"] = os.cpu_count()
    result["runs"] = []
    for _ in range(max(1, args.runs)):  # interleaved, so a drift of the machine hits all three
        round_: dict[str, Any] = {}
        for name, extra in runs.items():
            shutil.rmtree(home / name, ignore_errors=True)
            r = run_ingest(paths, env, name, extra=extra)
            r["msgs_per_s"] = result["messages"] / r["ingest_s"]
            round_[name] = {k: round(v, 2) for k, v in r.items()}
            print(name, json.dumps(round_[name]), file=sys.stderr)
        result["runs"].append(round_)
    for a, b in (("one", "w2"), ("w1", "w2")):
        result[f"speedup_{b}_vs_{a}"] = [
            round(r[a]["ingest_s"] / r[b]["ingest_s"], 2) for r in result["runs"]
        ]
    result["queries"] = _queries(home, ["one", "w2"], args.reps)
    q = result["queries"]
    result["query_p50_ratio"] = round(q["w2_p50_ms"] / q["one_p50_ms"], 2)
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "shards.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(_summary(result), file=sys.stderr)
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
